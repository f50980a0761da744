from django.urls import path

from gov21.registry import office

app_name = "registry"
urlpatterns = [
    path("", office.queue, name="queue"),
    path("search", office.search, name="search"),
]

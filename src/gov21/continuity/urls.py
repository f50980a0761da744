from django.urls import path

from gov21.continuity import office

app_name = "continuity_office"
urlpatterns = [
    path("", office.overview, name="overview"),
]

from django.urls import path

from gov21.opendata import office

app_name = "opendata-office"
urlpatterns = [
    path("", office.home, name="home"),
    path("datasets/<str:name>/", office.dataset, name="dataset"),
    path("harvest/", office.sources, name="sources"),
    path("harvest/<str:name>/", office.source, name="source"),
]

from django.urls import path

from gov21.statistics import office

app_name = "statistics"
urlpatterns = [
    path("", office.home, name="home"),
]

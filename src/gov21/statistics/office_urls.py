from django.urls import path

from gov21.statistics import office

app_name = "statistics"
urlpatterns = [
    path("", office.home, name="home"),
    path("services/", office.services, name="services"),
    path("services/csv", office.services_csv, name="services-csv"),
    path("services/traffic.csv", office.traffic_csv, name="traffic-csv"),
]

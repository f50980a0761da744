from django.urls import path

from gov21.statistics import dashboard_views, views

app_name = "statistics-public"
urlpatterns = [
    path("", views.index, name="index"),
    path("completeness/", dashboard_views.completeness, name="completeness"),
    path("completeness/csv", dashboard_views.completeness_csv, name="completeness-csv"),
    path("forecasts/", dashboard_views.forecasts, name="forecasts"),
    path("forecasts/csv", dashboard_views.forecasts_csv, name="forecasts-csv"),
    path("<slug:dataset>/", views.table, name="table"),
    path("<slug:dataset>/csv", views.table_csv, name="csv"),
]

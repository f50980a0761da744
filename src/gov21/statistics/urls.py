from django.urls import path

from gov21.statistics import views

app_name = "statistics-public"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:dataset>/", views.table, name="table"),
    path("<slug:dataset>/csv", views.table_csv, name="csv"),
]

from django.urls import path

from gov21.readiness import live_views, views

app_name = "readiness"
urlpatterns = [
    path("", views.report, name="report"),
    path("report.pdf", views.report_pdf, name="report-pdf"),
    path("countries/<str:code>/", views.country, name="country"),
    path("indicators", live_views.indicators_page, name="indicators"),
]

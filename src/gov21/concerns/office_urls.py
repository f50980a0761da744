from django.urls import path

from gov21.concerns import office

app_name = "concerns-office"
urlpatterns = [
    path("", office.home, name="home"),
    path("<int:report_id>/", office.report, name="report"),
]

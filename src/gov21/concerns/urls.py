from django.urls import path

from gov21.concerns import pages

app_name = "concerns"
urlpatterns = [
    path("report/", pages.report_new, name="new"),
    path("reports/", pages.report_list, name="list"),
    path("reports/mine/", pages.mine, name="mine"),
    path("reports/<int:report_id>/", pages.report_page, name="report"),
    path("reports/photos/<int:photo_id>.jpg", pages.photo, name="photo"),
]

from django.urls import path

from gov21.linkage import office

app_name = "linkage"
urlpatterns = [
    path("", office.home, name="home"),
    path("sources/<slug:code>/", office.source, name="source"),
    path("sources/<slug:code>/review/", office.review, name="review"),
    path("records/<int:pk>/", office.record, name="record"),
    path("duplicates/", office.duplicates, name="duplicates"),
    path("import/", office.upload, name="upload"),
]

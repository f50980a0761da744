from django.urls import path

from gov21.opendata import ckan, views

app_name = "opendata"
urlpatterns = [
    path("api/3/action/<str:name>", ckan.action_view, name="action"),
    # ckanapi and older CKAN clients call the unversioned path.
    path("api/action/<str:name>", ckan.action_view, name="action-unversioned"),
    path("datastore/dump/<str:resource_id>", views.dump, name="dump"),
    path("dataset/<str:name>/resource/<str:resource_id>/download", views.download, name="download"),
]

from django.urls import path

from gov21.opendata import ckan, pages, views

app_name = "opendata"
urlpatterns = [
    path("api/3/action/<str:name>", ckan.action_view, name="action"),
    # ckanapi and older CKAN clients call the unversioned path.
    path("api/action/<str:name>", ckan.action_view, name="action-unversioned"),
    path("catalog", views.catalogue, name="catalogue"),
    path("catalog.ttl", views.catalogue, {"kind": "ttl"}, name="catalogue-ttl"),
    path("catalog.jsonld", views.catalogue, {"kind": "jsonld"}, name="catalogue-jsonld"),
    path("catalog.rdf", views.catalogue, {"kind": "rdf"}, name="catalogue-rdf"),
    path("dataset/<str:name>.ttl", views.dataset_rdf, {"kind": "ttl"}, name="dataset-ttl"),
    path("dataset/<str:name>.jsonld", views.dataset_rdf, {"kind": "jsonld"}, name="dataset-jsonld"),
    path("dataset/<str:name>.rdf", views.dataset_rdf, {"kind": "rdf"}, name="dataset-rdf"),
    path("dataset/", pages.datasets, name="datasets"),
    path("dataset/<str:name>", pages.dataset, name="dataset"),
    path("datastore/dump/<str:resource_id>", views.dump, name="dump"),
    path("dataset/<str:name>/resource/<str:resource_id>/download", views.download, name="download"),
]

from django.urls import path

from gov21.imagery import views

app_name = "imagery"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("api", views.api, name="api"),
    path("search", views.search, name="search"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:collection_id>", views.collection, name="collection"),
    path("collections/<str:collection_id>/items", views.items, name="items"),
    path("collections/<str:collection_id>/items/<str:item_id>", views.item, name="item"),
    path("collections/<str:collection_id>/items/<str:item_id>/assets/<str:key>", views.asset, name="asset"),
    path(
        "collections/<str:collection_id>/items/<str:item_id>/tiles/WebMercatorQuad/<int:z>/<int:y>/<int:x>.png",
        views.tile,
        name="tile",
    ),
]

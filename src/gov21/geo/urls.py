from django.urls import path

from gov21.geo import maps, tiles, views

app_name = "geo"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("api", views.api, name="api"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:collection_id>", views.collection, name="collection"),
    path("collections/<str:collection_id>/queryables", views.queryables, name="queryables"),
    path("collections/<str:collection_id>/items", views.items, name="items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", views.item, name="item"),
    # The shared map's style and files (MapLibre GL JS, installed by gov21.geo.vendor), gov21.geo.maps.
    path("map/style.json", maps.style, name="map-style"),
    path("map/<str:name>", maps.asset, name="map-asset"),
    # Vector tiles (OGC API - Tiles), gov21.geo.tiles.
    path("tileMatrixSets", tiles.tile_matrix_sets, name="tile-matrix-sets"),
    path("tileMatrixSets/<str:tile_matrix_set_id>", tiles.tile_matrix_set_view, name="tile-matrix-set"),
    path("tiles", tiles.dataset_tilesets, name="dataset-tilesets"),
    path("tiles/<str:tile_matrix_set_id>", tiles.dataset_tileset, name="dataset-tileset"),
    path(
        "tiles/<str:tile_matrix_set_id>/<str:tile_matrix>/<str:tile_row>/<str:tile_col>",
        tiles.dataset_tile,
        name="dataset-tile",
    ),
    path("collections/<str:collection_id>/tiles", tiles.collection_tilesets, name="collection-tilesets"),
    path(
        "collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>",
        tiles.collection_tileset,
        name="collection-tileset",
    ),
    path(
        "collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>/<str:tile_matrix>/<str:tile_row>/<str:tile_col>",
        tiles.collection_tile,
        name="collection-tile",
    ),
]

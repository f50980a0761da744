from django.urls import path

from gov21.assets import office

app_name = "assets_office"
urlpatterns = [
    path("", office.asset_list, name="list"),
    path("add", office.asset_add, name="add"),
    path("<str:code>", office.asset_detail, name="asset"),
    path("<str:code>/inspect", office.asset_inspect, name="inspect"),
    path("<str:code>/edit", office.asset_edit, name="edit"),
]

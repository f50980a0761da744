from django.urls import path

from gov21.exchange import office

app_name = "exchange_office"
urlpatterns = [
    path("", office.overview, name="overview"),
    path("rights", office.rights, name="rights"),
    path("rights/revoke", office.right_revoke, name="right_revoke"),
    path("nodes", office.nodes, name="nodes"),
    path("nodes/<str:code>/approve", office.node_approve, name="node_approve"),
    path("nodes/<str:code>/revoke", office.node_revoke, name="node_revoke"),
]

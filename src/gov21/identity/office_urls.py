from django.urls import path

from gov21.identity import office

app_name = "identity"
urlpatterns = [
    path("activation", office.activation, name="activation"),
    path("recoveries", office.recoveries, name="recoveries"),
    path("clients", office.clients, name="clients"),
]

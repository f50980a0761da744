from django.urls import path

from gov21.land import office

app_name = "land"
urlpatterns = [
    path("", office.home, name="home"),
    path("parcels/<str:number>/", office.parcel, name="parcel"),
    path("transactions/<str:number>/", office.transaction, name="transaction"),
    path("lodge/transfer/", office.lodge_transfer, name="lodge-transfer"),
    path("lodge/mortgage/", office.lodge_mortgage, name="lodge-mortgage"),
    path("lodge/first-registration/", office.lodge_first_registration, name="lodge-first-registration"),
    path("lodge/subdivision/", office.lodge_subdivision, name="lodge-subdivision"),
    path("lodge/merger/", office.lodge_merger, name="lodge-merger"),
    path("lodge/discharge/", office.lodge_discharge, name="lodge-discharge"),
    path("lodge/lease/", office.lodge_lease, name="lodge-lease"),
    path("lodge/easement/", office.lodge_easement, name="lodge-easement"),
]

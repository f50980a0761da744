from django.urls import path

from gov21.assets import office

app_name = "disasters_office"
urlpatterns = [
    path("", office.event_list, name="list"),
    path("declare", office.event_declare, name="declare"),
    path("<int:event_id>", office.event_detail, name="event"),
    path("<int:event_id>/assess", office.event_assess, name="assess"),
    path("photos/<str:sha256>", office.photo, name="photo"),
    path("<int:event_id>/residents", office.residents_state, name="residents"),
    path("<int:event_id>/residents/<int:listing_id>", office.residents_named, name="residents_named"),
    path("<int:event_id>/residents/<int:listing_id>.csv", office.residents_csv, name="residents_csv"),
]

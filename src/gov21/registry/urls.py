from django.urls import path

from gov21.registry import office

app_name = "registry"
urlpatterns = [
    path("", office.queue, name="queue"),
    path("declare", office.declare, name="declare"),
    path("declare/birth", office.declare_birth, name="declare_birth"),
    path("declare/death", office.declare_death, name="declare_death"),
    path("declare/marriage", office.declare_marriage, name="declare_marriage"),
    path("declare/address", office.declare_address, name="declare_address"),
    path("declare/divorce", office.declare_divorce, name="declare_divorce"),
    path("declare/name-change", office.declare_name_change, name="declare_name_change"),
    path("declare/<slug:slug>/check", office.declare_check, name="declare_check"),
    path("events/<int:event_id>", office.event, name="event"),
    path("events/<int:event_id>/validate", office.event_validate, name="event_validate"),
    path("events/<int:event_id>/register", office.event_register, name="event_register"),
    path("events/<int:event_id>/reject", office.event_reject, name="event_reject"),
    path("events/<int:event_id>/correct", office.event_correct, name="event_correct"),
    path("events/<int:event_id>/correct/check", office.event_correct_check, name="event_correct_check"),
    path("events/<int:event_id>/request-correction", office.event_request_correction, name="event_request_correction"),
    path("events/<int:event_id>/duplicates/<int:candidate_id>", office.duplicate_resolve, name="duplicate_resolve"),
    path("events/<int:event_id>/certificates", office.certificate_issue, name="certificate_issue"),
    path(
        "events/<int:event_id>/certificates/<str:serial>/revoke", office.certificate_revoke, name="certificate_revoke"
    ),
    path("certificates/<str:serial>.pdf", office.certificate_download, name="certificate_pdf"),
    path("certificates/<str:serial>/qr.png", office.certificate_qr, name="certificate_qr"),
    path("search", office.search, name="search"),
    path("persons/<str:uin>", office.person, name="person"),
    path("persons/<str:uin>/correct", office.person_correct, name="person_correct"),
]

from django.urls import path
from django.views.generic.base import RedirectView

from gov21.portal import journeys, my, views

app_name = "portal"
urlpatterns = [
    path("", journeys.home, name="home"),
    path("favicon.svg", views.favicon, name="favicon"),
    # Browsers that ignore the page's link ask for this address; it names the same icon.
    path("favicon.ico", RedirectView.as_view(url="/favicon.svg", permanent=True)),
    path("services", journeys.search, name="search"),
    path("services/<slug:code>", journeys.start_page, name="start-page"),
    path("services/<slug:code>/start", journeys.start, name="start"),
    path("life/<slug:slug>", journeys.life_event, name="life-event"),
    path("apply/<str:reference>", journeys.tasks, name="tasks"),
    path("apply/<str:reference>/consent", journeys.consent, name="consent"),
    path("apply/<str:reference>/q/<slug:qid>", journeys.question, name="question"),
    path("apply/<str:reference>/check", journeys.check, name="check"),
    path("apply/<str:reference>/pay", journeys.pay, name="pay"),
    path("apply/<str:reference>/paid", journeys.paid, name="paid"),
    path("office/", views.office, name="office"),
    path("my/", views.my_account, name="my"),
    path("my/data-uses", views.my_data_uses, name="my-data-uses"),
    path("my/profile", my.profile, name="profile"),
    path("my/applications", my.applications, name="applications"),
    path("my/applications/<str:reference>", journeys.application_page, name="application"),
    path("my/applications/<str:reference>/review", journeys.review_request, name="application-review"),
    path("my/documents", my.documents, name="documents"),
    path("my/documents/<str:serial>", my.document, name="document"),
    path("my/documents/<str:serial>/pdf", my.document_pdf, name="document-pdf"),
    path("my/inbox", my.inbox, name="inbox"),
    path("my/offers/<int:offer_id>", my.offer, name="offer"),
    path("my/confirmations/<str:reference>", my.confirmation, name="confirmation"),
    path("my/consents", my.consents, name="consents"),
    path("my/property", my.property_page, name="property"),
    path("my/property/<str:number>/extract", my.property_extract, name="property-extract"),
    path("feedback", my.feedback, name="feedback"),
    path("sign-in", views.sign_in, name="login"),
    path("auth/callback", views.callback, name="callback"),
    path("sign-out", views.sign_out, name="logout"),
]

from django.urls import path

from gov21.participation import office

app_name = "participation-office"
urlpatterns = [
    path("", office.home, name="home"),
    path("comments/<int:comment_id>/hide", office.hide, name="hide"),
    path("statements/<int:statement_id>/hide", office.statement_hide, name="statement-hide"),
    path("processes/<slug:slug>/answer", office.answer, name="answer"),
    path("proposals/<int:proposal_id>/answer", office.proposal_answer, name="proposal-answer"),
    path("amendments/<int:amendment_id>/decide", office.amendment_decide, name="amendment-decide"),
    path("processes/new", office.process_new, name="process-new"),
    path("processes/<slug:slug>/phase", office.phase, name="phase"),
]

from django.urls import path

from gov21.participation import views

app_name = "participation"
urlpatterns = [
    path("", views.processes, name="processes"),
    path("<slug:slug>/", views.process_page, name="process"),
    path("<slug:slug>/sign", views.sign, name="sign"),
    path("<slug:slug>/ballot", views.ballot, name="ballot"),
    path("<slug:slug>/survey", views.survey, name="survey"),
    path("<slug:slug>/ballots.json", views.ballots_json, name="ballots"),
    path("<slug:slug>/comments", views.comment, name="comment"),
    path("<slug:slug>/comments/<int:comment_id>/report", views.report, name="report"),
    path("<slug:slug>/statements", views.statement, name="statement"),
    path("<slug:slug>/statements/<int:statement_id>/vote", views.statement_vote, name="statement-vote"),
    path("<slug:slug>/proposals", views.proposal_create, name="proposal-create"),
    path("<slug:slug>/proposals/<int:proposal_id>/", views.proposal_page, name="proposal"),
    path("<slug:slug>/proposals/<int:proposal_id>/support", views.proposal_support, name="proposal-support"),
    path("<slug:slug>/proposals/<int:proposal_id>/comments", views.proposal_comment, name="proposal-comment"),
    path("<slug:slug>/sections/<int:section_id>/amendments", views.amendment, name="amendment"),
    path("<slug:slug>/amendments/<int:amendment_id>/support", views.amendment_support, name="amendment-support"),
    path("<slug:slug>/summary", views.summary, name="summary"),
    path("<slug:slug>/moderation", views.moderation, name="moderation"),
]

from django.urls import path

from gov21.onestop import office

app_name = "cases"
urlpatterns = [
    path("", office.queue, name="queue"),
    path("workload", office.workload, name="workload"),
    path("automatic", office.automatic, name="automatic"),
    path("<str:reference>", office.case, name="case"),
    path("<str:reference>/assign", office.case_assign, name="assign"),
    path("<str:reference>/request-info", office.case_request_info, name="request_info"),
    path("<str:reference>/decide", office.case_decide, name="decide"),
    path("<str:reference>/review", office.case_review, name="review"),
    path("<str:reference>/reconsider", office.case_reconsider, name="reconsider"),
    path("<str:reference>/payments/<int:payment_id>/confirm", office.payment_confirm, name="payment_confirm"),
]

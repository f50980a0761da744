"""What other apps (the portal) may use of the service engine."""

from __future__ import annotations

from gov21.onestop import definitions, documents
from gov21.onestop.citizen import (
    application_accept_offer,
    application_answer,
    application_consent,
    application_pay_at_counter,
    application_pay_online,
    application_payment_check,
    application_question,
    application_respond,
    application_review_request,
    application_start,
    application_submit,
    application_view,
    application_withdraw,
    confirmation_give,
    confirmation_view,
)
from gov21.onestop.definitions import LANGUAGES, text
from gov21.onestop.documents import QR_PREFIX, document_verify
from gov21.onestop.notify import inbox_for, inbox_mark_read, inbox_unread_count
from gov21.onestop.payments import payment_page_origins, payment_provider
from gov21.onestop.records import (
    ApplicationState,
    ApplicationSummary,
    ApplicationView,
    ConfirmationView,
    ConsentSummary,
    DocumentSummary,
    OfferSummary,
    Outcome,
    Question,
    ReviewSummary,
    ServiceSummary,
    Translated,
)
from gov21.onestop.registers import demo_driver
from gov21.onestop.selectors import (
    applications_for,
    catalogue,
    consents_for,
    document_for,
    document_row,
    documents_for,
    life_event_name,
    life_events,
    offers_for,
    offers_open_count,
    profile_for,
    service_summary,
)
from gov21.onestop.services import feedback_record, offer_decline, review_texts_checked


def services_bootstrap() -> None:
    """Load the service definitions shipped with gov21 (new versions only; safe to run again)."""
    definitions.definitions_load()


def document_pdf(*, uin: str, serial: str) -> bytes:
    """The printable copy of a document ``uin`` holds; NotFound for anyone else's."""
    return documents.document_pdf(document=document_row(uin=uin, serial=serial))


__all__ = [
    "LANGUAGES",
    "QR_PREFIX",
    "ApplicationState",
    "ApplicationSummary",
    "ApplicationView",
    "ConfirmationView",
    "ConsentSummary",
    "DocumentSummary",
    "OfferSummary",
    "Outcome",
    "Question",
    "ReviewSummary",
    "ServiceSummary",
    "Translated",
    "application_accept_offer",
    "application_answer",
    "application_consent",
    "application_pay_at_counter",
    "application_pay_online",
    "application_payment_check",
    "application_question",
    "application_respond",
    "application_review_request",
    "application_start",
    "application_submit",
    "application_view",
    "application_withdraw",
    "applications_for",
    "catalogue",
    "confirmation_give",
    "confirmation_view",
    "consents_for",
    "demo_driver",
    "document_for",
    "document_pdf",
    "document_verify",
    "documents_for",
    "feedback_record",
    "inbox_for",
    "inbox_mark_read",
    "inbox_unread_count",
    "life_event_name",
    "life_events",
    "offer_decline",
    "offers_for",
    "offers_open_count",
    "payment_page_origins",
    "payment_provider",
    "profile_for",
    "review_texts_checked",
    "service_summary",
    "services_bootstrap",
    "text",
]

"""What other apps (the portal) may use of the service engine."""

from __future__ import annotations

from datetime import date

from gov21.onestop import definitions, documents
from gov21.onestop.definitions import LANGUAGES, text
from gov21.onestop.documents import QR_PREFIX, document_verify
from gov21.onestop.models import Application
from gov21.onestop.notify import inbox_for, inbox_mark_read, inbox_unread_count
from gov21.onestop.payments import (
    payment_page_origins,
    payment_provider,
    payment_refresh,
    payment_start_counter,
    payment_start_hosted,
)
from gov21.onestop.records import (
    ApplicationState,
    ApplicationSummary,
    ConsentSummary,
    DocumentSummary,
    OfferSummary,
    ServiceSummary,
    Translated,
)
from gov21.onestop.selectors import (
    application_for,
    application_state_label,
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
from gov21.onestop.services import (
    application_answer,
    application_consent,
    application_paid,
    application_respond,
    application_start,
    application_submit,
    application_withdraw,
    definition_of,
    eligibility,
    fee_text,
    feedback_record,
    offer_accept,
    offer_decline,
    question_get,
    questions_visible,
    unanswered,
)


def services_bootstrap() -> None:
    """Load the service definitions shipped with gov21 (new versions only; safe to run again)."""
    definitions.definitions_load()


def demo_driver(*, uin: str) -> None:
    """Give the demo citizen a driving licence, so the renewal can be tried at once."""
    from gov21.onestop.models import Licence
    from gov21.onestop.registers import licence_issue

    if not Licence.objects.filter(holder_uin=uin).exists():
        licence_issue(uin=uin, issued_on=date(2016, 11, 1))


def document_pdf(*, uin: str, serial: str) -> bytes:
    """The printable copy of a document ``uin`` holds; NotFound for anyone else's."""
    return documents.document_pdf(document=document_row(uin=uin, serial=serial))


__all__ = [
    "LANGUAGES",
    "QR_PREFIX",
    "Application",
    "ApplicationState",
    "ApplicationSummary",
    "ConsentSummary",
    "DocumentSummary",
    "OfferSummary",
    "ServiceSummary",
    "Translated",
    "application_answer",
    "application_consent",
    "application_for",
    "application_paid",
    "application_respond",
    "application_start",
    "application_state_label",
    "application_submit",
    "application_withdraw",
    "applications_for",
    "catalogue",
    "consents_for",
    "definition_of",
    "demo_driver",
    "document_for",
    "document_pdf",
    "document_verify",
    "documents_for",
    "eligibility",
    "fee_text",
    "feedback_record",
    "inbox_for",
    "inbox_mark_read",
    "inbox_unread_count",
    "life_event_name",
    "life_events",
    "offer_accept",
    "offer_decline",
    "offers_for",
    "offers_open_count",
    "payment_page_origins",
    "payment_provider",
    "payment_refresh",
    "payment_start_counter",
    "payment_start_hosted",
    "profile_for",
    "question_get",
    "questions_visible",
    "service_summary",
    "services_bootstrap",
    "text",
    "unanswered",
]

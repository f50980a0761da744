"""What other apps (the portal) may use of the service engine."""

from __future__ import annotations

from gov21.services.definitions import LANGUAGES, text
from gov21.services.documents import QR_PREFIX, document_verify
from gov21.services.models import Application, Document, Offer
from gov21.services.notify import inbox_for, inbox_mark_read, inbox_unread_count
from gov21.services.selectors import (
    application_for,
    applications_for,
    catalogue,
    consents_for,
    document_for,
    documents_for,
    life_event_name,
    life_events,
    offers_for,
    profile_for,
)

__all__ = [
    "LANGUAGES",
    "QR_PREFIX",
    "Application",
    "Document",
    "Offer",
    "application_for",
    "applications_for",
    "catalogue",
    "consents_for",
    "document_for",
    "document_verify",
    "documents_for",
    "inbox_for",
    "inbox_mark_read",
    "inbox_unread_count",
    "life_event_name",
    "life_events",
    "offers_for",
    "profile_for",
    "text",
]

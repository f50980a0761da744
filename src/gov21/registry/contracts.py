"""What other apps may use of the civil registry."""

from __future__ import annotations

from gov21.registry.certificates_pdf import render_certificate_pdf
from gov21.registry.records import PersonFacts, PersonHistory, PersonRecord, PersonVersionRecord
from gov21.registry.selectors import person_sample_adult, person_view, population_count

__all__ = [
    "PersonFacts",
    "PersonHistory",
    "PersonRecord",
    "PersonVersionRecord",
    "person_sample_adult",
    "person_view",
    "population_count",
    "render_certificate_pdf",
]

"""Writes of the civil registry, by subdomain: declaring (``declarations``), the registrar's decisions
and registering (``workflow``), what registering a birth, a death or a union does to the persons
concerned (``births``, ``deaths``, ``unions``), a person's versions, changes and corrections
(``persons``), possible duplicates, certificates and person assertions. Each public function is one
transaction; the audit row is written in it; nothing is overwritten (person changes add a
``PersonVersion``). Callers import from here; each name lives in the module of its subdomain."""

from __future__ import annotations

from gov21.registry.services.assertions import ASSERTION_HEADER, AssertedPerson, assertion_accept
from gov21.registry.services.certificates import (
    CertificateFacts,
    certificate_facts,
    certificate_issue,
    certificate_revoke,
    document_lookup_check,
)
from gov21.registry.services.deaths import death_registered
from gov21.registry.services.declarations import (
    check_declaration,
    declaration_parse,
    declaration_problems,
    event_declare,
    uins_unregistered,
)
from gov21.registry.services.duplicates import duplicate_resolve
from gov21.registry.services.events import CERTIFIABLE, OPEN_STATES, event_actions
from gov21.registry.services.persons import (
    CORRECTABLE_FIELDS,
    SNAPSHOT_FIELDS,
    facts_deceased,
    facts_divorced,
    facts_married,
    facts_moved,
    facts_renamed,
    facts_widowed,
    person_correct,
    person_snapshot,
)
from gov21.registry.services.workflow import (
    BATCH_MAX,
    event_correct,
    event_register,
    event_reject,
    event_request_correction,
    event_validate,
    register_birth,
    register_births,
)

__all__ = [
    "ASSERTION_HEADER",
    "BATCH_MAX",
    "CERTIFIABLE",
    "CORRECTABLE_FIELDS",
    "OPEN_STATES",
    "SNAPSHOT_FIELDS",
    "AssertedPerson",
    "CertificateFacts",
    "assertion_accept",
    "certificate_facts",
    "certificate_issue",
    "certificate_revoke",
    "check_declaration",
    "death_registered",
    "declaration_parse",
    "declaration_problems",
    "document_lookup_check",
    "duplicate_resolve",
    "event_actions",
    "event_correct",
    "event_declare",
    "event_register",
    "event_reject",
    "event_request_correction",
    "event_validate",
    "facts_deceased",
    "facts_divorced",
    "facts_married",
    "facts_moved",
    "facts_renamed",
    "facts_widowed",
    "person_correct",
    "person_snapshot",
    "register_birth",
    "register_births",
    "uins_unregistered",
]

"""The shapes the one-stop shop hands to other apps (the portal), written once.

Each is a frozen record built by the shop's selectors from its own rows; no other app sees those
rows. Other apps see these records through ``gov21.onestop.contracts``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

# A text of a service definition in each language it is written in, by language code.
Translated = dict[str, str]


class Record(BaseModel):
    """A value that crosses a boundary: immutable, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ApplicationState(StrEnum):
    """Where an application stands; the same codes the shop stores (tests hold them equal)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    AWAITING_PAYMENT = "awaiting_payment"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REFUSED = "refused"
    REVIEW_REQUESTED = "review_requested"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class ServiceSummary(Record):
    """What a person reads about a service before applying: its texts in every language, the
    documents to have ready, the registries its answers are filled from, and the days it takes."""

    code: str
    title: Translated
    summary: Translated
    before_you_start: Translated | None
    documents_required: list[Translated]
    prefill_labels: list[Translated]
    sla_days: int


class DocumentSummary(Record):
    """A document a service issued to its holder: what it is, who issued it, its facts as
    (label, value) pairs, its status (code and words), and the signed credential its QR code carries."""

    serial: str
    kind: str
    title: str
    agency: str
    facts: list[tuple[str, str]]
    credential: str
    status: str
    status_label: str
    status_reason: str
    issued_at: datetime
    valid_until: date | None


class OfferSummary(Record):
    """A service offered to a person after a registry's event, waiting for their answer: which
    service, the child it concerns (empty when none) and when it was offered."""

    id: int
    service_code: str
    child_name: str
    created_at: datetime


class ApplicationSummary(Record):
    """One line of a person's list of applications: which, for what service, where it stands
    (code and words) and when it was started."""

    reference: str
    service_code: str
    title: Translated
    state: ApplicationState
    state_label: str
    created_at: datetime


class ConsentSummary(Record):
    """A person's consent to have facts fetched for an application: the application, its service's
    title, the sources named (and their labels in the service's languages), and when it was given."""

    reference: str
    title: Translated
    sources: list[str]
    source_labels: list[Translated]
    given_at: datetime


class Outcome(Record):
    """The result of one of a service's checks: whether it passed, and why, in each language."""

    passed: bool
    reason: Translated | None


class Option(Record):
    """One answer a person may choose for a question: the stored value and its words."""

    value: str
    label: Translated


class Question(Record):
    """One question of a service's form as a person sees it: its id, kind of answer, words, hint,
    whether it must be answered, and the options of a choice."""

    id: str
    type: str
    label: Translated
    hint: Translated | None
    required: bool
    options: list[Option]


class Fee(Record):
    """What a service costs, in the currency's smallest unit, and what the payment is for."""

    amount: int
    currency: str
    description: Translated


class PrefillSource(Record):
    """A registry an application's answers are filled from: its label and its exchange service."""

    label: Translated
    service: str


class VerifiedPerson(Record):
    """The applicant as the population register told it, as far as the check page shows it."""

    given_names: str = ""
    family_name: str = ""
    birth_date: str = ""
    address_line: str = ""
    address_settlement: str = ""
    address_parish: str = ""


class TransitionSummary(Record):
    """One step of an application's history: when, to what state (code and words), who moved it
    (citizen, officer, system) and the note they left."""

    at: datetime
    to_state: str
    state_label: str
    note: str
    actor_kind: str


class DocumentLink(Record):
    """A document an application produced, as its page links to it."""

    serial: str
    title: str


class PaymentSummary(Record):
    """A payment of an application: how it is made (hosted, counter) and where it stands."""

    method: str
    status: str


class ReviewSummary(Record):
    """The applicant's request for a review of a refusal, and its outcome once an officer decided it:
    ``outcome`` is "" while it waits, "upheld" or "overturned" after."""

    requested_at: datetime
    disagreement: str
    new_information: str
    working_days: int
    due_at: datetime
    outcome: str
    outcome_reason: str
    decided_at: datetime | None


class ApplicationView(Record):
    """A person's own application as the portal's pages show it: where it stands, the answers given,
    the facts fetched for it, its checks and decision, its history, documents and payments, and the
    texts of its service (title, registries, fee, next steps, the questions now asked and the
    required ones still unanswered)."""

    reference: str
    service_code: str
    state: ApplicationState
    state_label: str
    consented: bool
    answers: dict[str, object]
    person: VerifiedPerson
    checks: list[Outcome]
    reasons: list[Outcome]
    decided_by: str
    due_at: datetime | None
    info_request: str
    transitions: list[TransitionSummary]
    documents: list[DocumentLink]
    payments: list[PaymentSummary]
    title: Translated
    prefill: list[PrefillSource]
    fee: Fee | None
    fee_text: str
    next_steps: Translated | None
    questions: list[Question]
    missing: list[str]
    # The latest request for a review of a refusal, and until when one may be asked (None: it cannot).
    review: ReviewSummary | None = None
    review_until: datetime | None = None
    review_working_days: int = 0


class ConfirmationView(Record):
    """What the other party of an application (the buyer of land) is asked to confirm."""

    reference: str
    title: Translated
    confirm: Translated
    applicant_name: str
    state: ApplicationState
    state_label: str
    waiting: bool
    questions: list[Question]
    answers: dict[str, object]

"""Reads of the record linkage. A read that shows a registry person's data to someone (an officer's
review, an agency's extract) is authorised and recorded in the access log with its purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from gov21.audit.contracts import Access, access_action_declare, access_record, access_record_all
from gov21.core.errors import DomainError, Forbidden, NotFound
from gov21.core.principal import Principal, PrincipalKind
from gov21.linkage import engine
from gov21.linkage.models import Decision, Duplicate, IndexEntry, Pair, Record, Run, Source, Status

LINKAGE_REVIEW = access_action_declare(
    "linkage.review", gettext_lazy("Compared your record with an agency's record of a person, to link them")
)
LINKAGE_EXTRACT = access_action_declare(
    "linkage.extract", gettext_lazy("Gave an agency your UIN beside its own record of you")
)
REVIEW_PURPOSE = gettext_noop("Record linkage: clerical review of a record")


def _source(code: str) -> Source:
    source = Source.objects.filter(code=code).first()
    if source is None:
        raise NotFound("source_not_found", _("No source is called %(code)s.") % {"code": code}, field="source")
    return source


def sources_list(*, actor: Principal) -> list[tuple[Source, dict[str, int]]]:
    actor.require("linkage.read")
    counts: dict[int, dict[str, int]] = {}
    for source_id, status, n in Record.objects.values_list("source_id", "status").annotate(n=Count("id")):
        counts.setdefault(source_id, {})[status or "new"] = n
    return [(s, counts.get(s.pk, {})) for s in Source.objects.order_by("code")]


@dataclass(frozen=True)
class Quality:
    source: Source
    counts: dict[str, int]
    errors: int
    precision_model: float | None  # the model's own: mean probability of the linked
    recall_model: float | None  # expected true matches found among all the model expects
    precision_clerical: float | None  # accepted among the decided
    decided: int
    histogram: list[tuple[float, int]]  # match weight (bin start) → candidate pairs
    changes: dict[str, int]  # status → change since the run before
    run: Run | None


def source_quality(*, code: str, actor: Principal) -> Quality:
    """The quality dashboard of a source."""
    actor.require("linkage.read")
    source = _source(code)
    counts = dict.fromkeys(Status.values, 0)
    for status, n in Record.objects.filter(source=source).values_list("status").annotate(n=Count("id")):
        counts[status or "new"] = n
    runs = list(Run.objects.filter(source=source, stage="done").order_by("-id")[:2])
    last = runs[0] if runs else None
    changes = (
        {s: last.counts.get(s, 0) - (runs[1].counts.get(s, 0) if len(runs) > 1 else 0) for s in Status.values}
        if last
        else {}
    )
    precision_model = recall_model = None
    histogram: list[tuple[float, int]] = []
    if last is not None:
        linked = [
            p
            for p in Record.objects.filter(source=source, status=Status.LINKED).values_list("probability", flat=True)
            if p is not None
        ]
        probs = np.array(
            [p for p in Pair.objects.filter(run=last).values_list("probability", flat=True) if p is not None]
        )
        weights = np.array([w for w in Pair.objects.filter(run=last).values_list("weight", flat=True) if w is not None])
        if linked:
            precision_model = float(np.mean(linked))
        if probs.size:
            recall_model = float(min(1.0, sum(linked) / probs.sum())) if probs.sum() else None
        if weights.size:
            edges = np.arange(np.floor(weights.min() / 5) * 5, weights.max() + 5, 5)
            hist, edges = np.histogram(weights, bins=edges) if len(edges) > 1 else (np.array([weights.size]), edges)
            histogram = [(float(e), int(n)) for e, n in zip(edges, hist, strict=False)]
    decisions = Decision.objects.filter(record__source=source, reverses__isnull=True, reversal__isnull=True)
    decided = decisions.count()
    accepted = decisions.filter(verdict="accept").count()
    return Quality(
        source=source,
        counts=counts,
        errors=source.row_errors.count(),
        precision_model=precision_model,
        recall_model=recall_model,
        precision_clerical=accepted / decided if decided else None,
        decided=decided,
        histogram=histogram,
        changes=changes,
        run=last,
    )


def row_errors(*, code: str, actor: Principal, limit: int = 200) -> list[tuple[str, int, str]]:
    actor.require("linkage.read")
    return list(_source(code).row_errors.order_by("-at", "line").values_list("file_name", "line", "reason")[:limit])


def review_queue(*, code: str, actor: Principal, after: int = 0, limit: int = 50) -> list[Record]:
    """The records of a source waiting for an officer, oldest line first."""
    actor.require("linkage.read")
    source = _source(code)
    return list(Record.objects.filter(source=source, status=Status.REVIEW, pk__gt=after).order_by("pk")[:limit])


@dataclass(frozen=True)
class Facts:
    given: str
    surname: str
    former: str
    dob: date | None
    sex: str
    address: str
    place: str
    marital: str


@dataclass(frozen=True)
class Bar:
    field: str
    level: int
    weight: float
    start: float  # where the bar starts on the running total
    end: float


@dataclass(frozen=True)
class PairView:
    record: Record
    uin: str
    person: Facts | None  # as the registry had it on the record's date (or today)
    probability: float | None
    prior: float
    bars: list[Bar]
    total: float
    decisions: list[Decision]
    others: list[tuple[str, float]]  # the other candidates and their probability


def _person_facts(uin: str, on: date | None) -> Facts | None:
    versions = list(IndexEntry.objects.filter(uin=uin).order_by("version"))
    if not versions:
        return None
    chosen = versions[-1]
    if on is not None:
        for v in versions:
            if v.since <= on:
                chosen = v
    former = sorted({v.surname for v in versions if v.surname != chosen.surname})
    return Facts(
        given=chosen.given,
        surname=chosen.surname,
        former=", ".join(former),
        dob=chosen.dob,
        sex=chosen.sex,
        address=chosen.address,
        place=f"{chosen.settlement} {chosen.parish}".strip(),
        marital=chosen.marital,
    )


def pair_view(*, pk: int, actor: Principal) -> PairView:
    """A record beside the registry person it was put with: each field's agreement and weight. The
    officer's read of the person is recorded for them."""
    actor.require("linkage.read")
    record = Record.objects.select_related("source").filter(pk=pk).first()
    if record is None:
        raise NotFound("record_not_found", _("No such record."), field="record")
    pairs = list(Pair.objects.filter(record=record).select_related("run").order_by("-run_id", "-probability"))
    latest = [p for p in pairs if p.run_id == pairs[0].run_id] if pairs else []
    uin = record.uin or (latest[0].uin if latest else "")
    pair = next((p for p in latest if p.uin == uin), None)
    bars: list[Bar] = []
    prior = total = 0.0
    if pair is not None and pair.run.model:
        model = engine.Model.from_json(pair.run.model)
        prior = float(np.log2(model.prior / (1 - model.prior)))
        total = prior
        for name, level, weight in engine.contributions(pair.gamma, model):
            bars.append(Bar(name, level, weight, total, total + weight))
            total += weight
    person = _person_facts(uin, record.recorded_on) if uin else None
    if uin:
        access_record(
            actor=actor.name, actor_kind=actor.kind, action=LINKAGE_REVIEW, subject=uin, purpose=REVIEW_PURPOSE
        )
    return PairView(
        record=record,
        uin=uin,
        person=person,
        probability=pair.probability if pair else record.probability,
        prior=prior,
        bars=bars,
        total=total,
        decisions=list(record.decisions.order_by("at", "pk")),
        others=[(p.uin, p.probability or 0.0) for p in latest if p.uin != uin][:5],
    )


def record_source(*, pk: int) -> str | None:
    """The code of the source a record belongs to (None when there is no such record)."""
    return Record.objects.filter(pk=pk).values_list("source__code", flat=True).first()


def review_next(*, code: str, after: int) -> int | None:
    """The next record of the source waiting for review after record ``after``."""
    return (
        Record.objects.filter(source__code=code, status=Status.REVIEW, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def duplicates_list(*, actor: Principal, limit: int = 200) -> list[Duplicate]:
    actor.require("linkage.read")
    return list(Duplicate.objects.order_by("-probability", "uin_a")[:limit])


@dataclass(frozen=True)
class ExtractRow:
    record_id: str
    uin: str
    probability: float | None
    status: str


def extract_for_agency(*, source: str, client: str, purpose: str | None) -> list[ExtractRow]:
    """The source's outcomes, for the agency that owns it only; each linked person's UIN handed out is
    recorded in the access log with the agency's purpose."""
    why = (purpose or "").strip()
    if len(why) < 3:
        raise DomainError(
            "purpose_required", "State why you need the linked extract (X-Road-Issue header).", field="purpose"
        )
    src = _source(source)
    member = client.split("/", 2)[-1] if client.count("/") >= 2 else client
    if not (member == src.agency or member.startswith(src.agency + "/")):
        raise Forbidden("not_your_source", "This source belongs to another agency.")
    rows = [
        ExtractRow(r, u, p, s)
        for r, u, p, s in Record.objects.filter(source=src)
        .order_by("line", "pk")
        .values_list("record_id", "uin", "probability", "status")
    ]
    access_record_all(
        [
            Access(f"exchange:{client}"[:150], PrincipalKind.SYSTEM, LINKAGE_EXTRACT, r.uin, why[:300], None)
            for r in rows
            if r.status == Status.LINKED and r.uin
        ]
    )
    return rows

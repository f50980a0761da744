"""Writes of the record linkage: importing an agency's file, keeping the index of the registry current
through the exchange, running a linkage in checkpointed steps, officers' decisions and their reversal,
and the registry's likely duplicates. Heavy work runs in commands and workers, never in a request."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.errors import DomainError, NotFound
from gov21.core.geography import parishes, settlement_names
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.linkage import engine, vector
from gov21.linkage.importing import BadRow, file_read, mapping_load
from gov21.linkage.models import Decision, Duplicate, IndexEntry, Pair, Record, RowError, Run, Source, Status, Verdict
from gov21.linkage.standardise import (
    address_std,
    date_parse,
    fold,
    given_std,
    phone_std,
    sex_std,
    surname_std,
)

# Why the linkage reads the registry's versions: shown to each person among the uses of their data.
INDEX_PURPOSE = gettext_noop("Record linkage: keeping the index of the civil registry current")
AGENCY = re.compile(r"[A-Z][A-Z0-9-]{1,19}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?")
CHUNK = 500


def linkage_client() -> str:
    """The record linkage's information system on the exchange."""
    return agency_client("CRO", "record-linkage")


# --- places ---------------------------------------------------------------------------------------


def _parish_codes() -> dict[str, str]:
    known: dict[str, str] = {}
    for code, name in parishes():
        known[fold(code)] = code
        known[fold(name)] = code
    return known


def _settlements() -> dict[str, str]:
    return {fold(name): fold(name) for name in settlement_names()}


# --- sources and import ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    source: str
    imported: int = 0
    updated: int = 0
    bad: list[BadRow] = field(default_factory=list)


def source_ensure(*, code: str, agency: str) -> Source:
    """The source ``code`` of ``agency`` (an exchange member, or its subsystem: MSD/benefits)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,59}", code):
        raise DomainError(
            "invalid_source",
            _("A source is named in lower-case letters, digits and hyphens, such as msd-2009."),
            field="source",
        )
    if not AGENCY.fullmatch(agency):
        raise DomainError(
            "invalid_agency",
            _("Name the agency by its exchange member code, such as MSD or MSD/benefits."),
            field="agency",
        )
    source, _created = Source.objects.get_or_create(
        code=code, defaults={"agency": agency, "created_at": timezone.now()}
    )
    if source.agency != agency:
        raise DomainError(
            "source_of_other_agency",
            _("The source %(code)s belongs to %(agency)s.") % {"code": code, "agency": source.agency},
            status=409,
            field="agency",
        )
    return source


def _standardised(
    values: dict[str, str], parish_codes: dict[str, str], settlements: dict[str, str]
) -> dict[str, object]:
    dob = date_parse(values.get("date_of_birth"))
    if dob.invalid:
        raise ValueError(_("The date of birth %(value)s is not a date.") % {"value": values.get("date_of_birth")})
    recorded = date_parse(values.get("recorded_on"))
    if recorded.invalid:
        raise ValueError(_("The record's date %(value)s is not a date.") % {"value": values.get("recorded_on")})
    parish = fold(values.get("parish"))
    former = surname_std(values.get("former_surname"))
    return {
        "given": given_std(values.get("given_names"))[:200],
        "surname": surname_std(values.get("surname"))[:200],
        "former": [former] if former else [],
        "dob": dob.value,
        "dob_ambiguous": dob.ambiguous,
        "sex": sex_std(values.get("sex")),
        "address": address_std(values.get("address"))[:300],
        "settlement": settlements.get(fold(values.get("settlement")), fold(values.get("settlement")))[:120],
        "parish": parish_codes.get(parish, parish)[:120],
        "mother": surname_std(values.get("mother_name"))[:300],
        "father": surname_std(values.get("father_name"))[:300],
        "phone": phone_std(values.get("phone")),
        "recorded_on": recorded.value,
    }


def records_import(
    *, source: str, agency: str, path: Path, mapping: Path | None = None, encoding: str = "utf-8"
) -> ImportReport:
    """Import an agency's file into its source: each readable row standardised and kept (a record id
    seen before is replaced, and waits for the next run), each unreadable row reported with its line."""
    columns = mapping_load(mapping)
    read = file_read(path, mapping=columns, encoding=encoding)
    parish_codes, settlements = _parish_codes(), _settlements()
    report = ImportReport(source=source, bad=list(read.bad))
    prepared: list[tuple[int, str, dict[str, str], dict[str, object]]] = []
    for row in read.rows:
        try:
            prepared.append(
                (row.line, row.values["record_id"], row.values, _standardised(row.values, parish_codes, settlements))
            )
        except ValueError as error:
            report.bad.append(BadRow(row.line, str(error)))
    report.bad.sort(key=lambda b: b.line)
    now = timezone.now()
    with transaction.atomic():
        src = source_ensure(code=source, agency=agency)
        existing = {r.record_id: r for r in Record.objects.filter(source=src, record_id__in=[p[1] for p in prepared])}
        new, changed = [], []
        for line, record_id, raw, std in prepared:
            record = existing.get(record_id)
            if record is None:
                new.append(Record(source=src, record_id=record_id, line=line, raw=raw, **std))
                continue
            record.line, record.raw = line, raw
            for name, value in std.items():
                setattr(record, name, value)
            record.status, record.uin, record.probability, record.reason = "", "", None, ""
            changed.append(record)
        Record.objects.bulk_create(new, batch_size=1000)
        if changed:
            Record.objects.bulk_update(
                changed,
                ["line", "raw", *_standardised({}, {}, {}).keys(), "status", "uin", "probability", "reason"],
                batch_size=500,
            )
        RowError.objects.bulk_create(
            [
                RowError(source=src, file_name=path.name[:300], line=b.line, reason=b.reason[:500], at=now)
                for b in report.bad
            ]
        )
    report.imported, report.updated = len(new), len(changed)
    return report


# --- the index of the registry --------------------------------------------------------------------


def index_refresh(*, page: int = 500) -> int:
    """Read the registry's versions recorded since the last read, through the exchange (each person
    read is logged for them with the purpose), into the index. Returns how many were added."""
    after = IndexEntry.objects.order_by("-cursor").values_list("cursor", flat=True).first() or 0
    parish_codes = _parish_codes()
    added = 0
    while True:
        answer = exchange_json(
            client=linkage_client(),
            service=agency_service("CRO", "civil-registry", "versions"),
            path="/",
            query=urlencode({"after": after, "limit": page}),
            issue=INDEX_PURPOSE,
        )
        rows = answer["versions"]
        entries = []
        for row in rows:
            data = row["data"]
            entries.append(
                IndexEntry(
                    cursor=row["cursor"],
                    uin=row["uin"],
                    version=row["version"],
                    since=date.fromisoformat(row["effective_date"]),
                    given=given_std(data["given_names"])[:200],
                    surname=surname_std(data["family_name"])[:200],
                    dob=date.fromisoformat(data["birth_date"]),
                    sex=data["sex"][:1],
                    address=address_std(data["address_line"])[:300],
                    settlement=fold(data["address_settlement"])[:120],
                    parish=parish_codes.get(fold(data["address_parish"]), data["address_parish"])[:120],
                    marital=data["marital_status"][:20],
                    status=data["status"][:20],
                    mother_uin=data.get("mother_uin") or "",
                    father_uin=data.get("father_uin") or "",
                )
            )
        with transaction.atomic():
            IndexEntry.objects.bulk_create(entries, ignore_conflicts=True)
        added += len(entries)
        if answer.get("next") is None or not rows:
            return added
        after = int(answer["next"])


def index_persons(*, history: bool) -> engine.Index:
    """The index as the engine compares it: each person with the facets of their versions."""
    rows = IndexEntry.objects.order_by("uin", "version").values_list(
        "uin",
        "since",
        "given",
        "surname",
        "dob",
        "sex",
        "address",
        "settlement",
        "parish",
        "marital",
        "mother_uin",
        "father_uin",
    )
    persons: dict[str, engine.Person] = {}
    parents: dict[str, tuple[str, str]] = {}
    for uin, since, given, surname, dob, sex, address, settlement, parish, marital, mother, father in rows.iterator(
        chunk_size=5000
    ):
        facet = engine.Facet(since, given, surname, address, settlement, parish, marital)
        person = persons.get(uin)
        if person is None:
            persons[uin] = engine.Person(key=uin, dob=dob, sex=sex, facets=[facet])
        else:
            person.facets.append(facet)
            person.dob, person.sex = dob, sex
        parents[uin] = (mother, father)
    for uin, (mother, father) in parents.items():
        person = persons[uin]
        if mother in persons:
            person.mother = f"{persons[mother].facets[-1].given} {persons[mother].facets[-1].surname}".strip()
        if father in persons:
            person.father = f"{persons[father].facets[-1].given} {persons[father].facets[-1].surname}".strip()
    return engine.Index.build(persons.values(), history=history)


# --- runs -----------------------------------------------------------------------------------------


def entry_of(record: Record) -> engine.Entry:
    return engine.Entry(
        key=str(record.pk),
        given=record.given,
        surname=record.surname,
        dob=record.dob,
        sex=record.sex,
        address=record.address,
        settlement=record.settlement,
        parish=record.parish,
        mother=record.mother,
        father=record.father,
        phone=record.phone,
        former=tuple(record.former),
        at=record.recorded_on,
    )


def _source(code: str) -> Source:
    source = Source.objects.filter(code=code).first()
    if source is None:
        raise NotFound("source_not_found", _("No source is called %(code)s.") % {"code": code}, field="source")
    return source


def run_start(*, source: str, history: bool = True) -> Run:
    """The source's unfinished run, to continue, or a new one."""
    src = _source(source)
    unfinished = Run.objects.filter(source=src).exclude(stage="done").order_by("-id").first()
    if unfinished is not None:
        return unfinished
    if not Record.objects.filter(source=src).exists():
        raise DomainError(
            "source_empty", _("The source %(code)s has no records; import a file first.") % {"code": source}, status=409
        )
    return Run.objects.create(source=src, history=history, started_at=timezone.now())


def _chunks(run: Run) -> Iterator[list[Record]]:
    while True:
        chunk = list(Record.objects.filter(source=run.source, pk__gt=run.checkpoint).order_by("pk")[:CHUNK])
        if not chunk:
            return
        yield chunk


def _labels(source: Source) -> dict[tuple[int, str], int]:
    """Officers' standing decisions (not reversed): 1 same person, 0 different people."""
    decisions = Decision.objects.filter(record__source=source, reverses__isnull=True, reversal__isnull=True)
    return {(d.record_id, d.uin): 1 if d.verdict == Verdict.ACCEPT else 0 for d in decisions}


def run_continue(run: Run, *, index: engine.Index | None = None, chunks: int | None = None) -> Run:
    """Carry the run on from its checkpoint: candidate pairs chunk by chunk (each chunk and the
    checkpoint committed together), then the estimate, then the outcomes in one transaction.
    ``chunks`` stops after that many chunks (as an interruption would)."""
    if run.stage == "done":
        return run
    index = index or index_persons(history=run.history)
    done = 0
    if run.stage == "pairs":
        # The index as arrays once, each chunk's records blocked and compared as arrays (decision 0068).
        vocab = vector.Vocab()
        persons = vector.persons_of(list(index.persons.values()), vocab)
        keys = vector.person_keys(persons, vocab, history=run.history)
        for chunk in _chunks(run):
            if chunks is not None and done >= chunks:
                return run
            entries = vector.entries_of([entry_of(record) for record in chunk], vocab)
            blocked = vector.block_and_compare(
                entries,
                persons,
                vocab,
                history=run.history,
                max_block=index.max_block,
                refine_above=index.refine_above,
                person_rows=keys,
            )
            pairs = [
                Pair(run=run, record=chunk[r], uin=persons.keys[p], gamma=[int(x) for x in gamma])
                for r, p, gamma in zip(blocked.rec, blocked.per, blocked.gammas, strict=True)
            ]
            with transaction.atomic():
                Pair.objects.bulk_create(pairs, batch_size=1000, ignore_conflicts=True)
                run.checkpoint = chunk[-1].pk
                run.save(update_fields=["checkpoint"])
            done += 1
        run.stage = "estimate"
        run.save(update_fields=["stage"])
    if run.stage == "estimate":
        _estimate(run, index)
    if run.stage == "assign":
        _assign(run)
    return run


def _estimate(run: Run, index: engine.Index) -> None:
    records = list(Record.objects.filter(source=run.source).order_by("?")[:2000])
    persons = list(index.persons.values())
    sample = random.Random(run.pk).sample(persons, min(len(persons), 2000))  # noqa: S311  (sampling, not secrets)
    u = engine.u_estimate([entry_of(r) for r in records], sample, history=run.history)
    pairs = list(Pair.objects.filter(run=run).order_by("pk").only("pk", "record_id", "uin", "gamma"))
    labels = _labels(run.source)
    gammas = np.array([p.gamma for p in pairs], dtype=np.int8).reshape(len(pairs), -1)
    fixed = np.array([labels.get((p.record_id, p.uin), -1) for p in pairs])
    model = engine.em_sessions(gammas, u, labels=fixed)
    weights, probabilities = engine.scores(gammas, model)
    for pair, w, p in zip(pairs, weights, probabilities, strict=True):
        pair.weight, pair.probability = float(w), float(p)
    with transaction.atomic():
        Pair.objects.bulk_update(pairs, ["weight", "probability"], batch_size=1000)
        run.model = model.to_json()
        run.stage = "assign"
        run.save(update_fields=["model", "stage"])


def _assign(run: Run) -> None:
    source = run.source
    labels = _labels(source)
    scored = [
        (str(r), u, float(p or 0.0))
        for r, u, p in Pair.objects.filter(run=run).values_list("record_id", "uin", "probability")
        if labels.get((r, u)) != 0
    ]
    keys = [str(pk) for pk in Record.objects.filter(source=source).values_list("pk", flat=True)]
    outcomes = engine.assign(scored, keys, upper=source.upper, lower=source.lower)
    accepted = {r: u for (r, u), v in labels.items() if v == 1}
    with transaction.atomic():
        records = list(Record.objects.select_for_update().filter(source=source))
        for record in records:
            if record.pk in accepted:
                record.uin, record.status, record.reason = accepted[record.pk], Status.LINKED, "officer"
                record.probability = 1.0
                continue
            o = outcomes[str(record.pk)]
            record.uin, record.probability, record.status, record.reason = (
                o.uin or "",
                o.probability,
                o.status,
                o.reason,
            )
        Record.objects.bulk_update(records, ["uin", "probability", "status", "reason"], batch_size=1000)
        counts = dict.fromkeys(Status.values, 0)
        for record in records:
            counts[record.status] += 1
        run.counts = {**counts, "pairs": len(scored)}
        run.stage, run.finished_at = "done", timezone.now()
        run.save(update_fields=["counts", "stage", "finished_at"])


def run_source(*, source: str, history: bool = True, refresh: bool = True) -> Run:
    """``gov21 linkage run``: the index brought up to date, then the source's run continued to its end."""
    if refresh:
        index_refresh()
    run = run_start(source=source, history=history)
    return run_continue(run)


# --- clerical review ------------------------------------------------------------------------------


def decision_make(*, record: int, uin: str, verdict: str, officer: Principal) -> Decision:
    """An officer's decision on a record in review and the person it was put with. A record another
    officer decided meanwhile is refused (409), so nothing is decided or linked twice."""
    officer.require("linkage.review")
    if verdict not in Verdict.values:
        raise DomainError("invalid_verdict", _("Choose same person or different people."), field="verdict")
    with transaction.atomic():
        row = Record.objects.select_for_update().filter(pk=record).first()
        if row is None:
            raise NotFound("record_not_found", _("No such record."), field="record")
        standing = Decision.objects.filter(record=row, reverses__isnull=True, reversal__isnull=True).first()
        if standing is not None:
            raise DomainError(
                "already_decided",
                _("%(officer)s decided this record at %(at)s; reverse that decision first if it was wrong.")
                % {"officer": standing.officer, "at": timezone.localtime(standing.at).strftime("%Y-%m-%d %H:%M")},
                status=409,
            )
        if row.status != Status.REVIEW or row.uin != uin:
            raise DomainError(
                "not_in_review", _("This record is no longer waiting for review with that person."), status=409
            )
        if verdict == Verdict.ACCEPT:
            other = Record.objects.filter(source=row.source, uin=uin, status=Status.LINKED).exclude(pk=row.pk).first()
            if other is not None:
                raise DomainError(
                    "person_taken",
                    _("Record %(other)s of this source is already linked to this person.") % {"other": other.record_id},
                    status=409,
                )
        decision = Decision.objects.create(
            record=row, uin=uin, verdict=verdict, officer=officer.name, at=timezone.now()
        )
        if verdict == Verdict.ACCEPT:
            row.status, row.reason, row.probability = Status.LINKED, "officer", 1.0
        else:
            row.status, row.reason = Status.UNLINKED, "officer"
        row.save(update_fields=["status", "reason", "probability"])
    return decision


def decision_reverse(*, decision: int, officer: Principal) -> Decision:
    """Undo a decision: a new row naming it; the record waits for review again."""
    officer.require("linkage.review")
    with transaction.atomic():
        original = Decision.objects.select_for_update().filter(pk=decision, reverses__isnull=True).first()
        if original is None:
            raise NotFound("decision_not_found", _("No such decision."), field="decision")
        if Decision.objects.filter(reverses=original).exists():
            raise DomainError("already_reversed", _("This decision was reversed already."), status=409)
        row = Record.objects.select_for_update().get(pk=original.record_id)
        reversal = Decision.objects.create(
            record=row,
            uin=original.uin,
            verdict=original.verdict,
            officer=officer.name,
            at=timezone.now(),
            reverses=original,
        )
        best = (
            Pair.objects.filter(record=row, uin=original.uin)
            .order_by("-run_id")
            .values_list("probability", flat=True)
            .first()
        )
        row.uin, row.status, row.reason, row.probability = original.uin, Status.REVIEW, "reversed", best
        row.save(update_fields=["uin", "status", "reason", "probability"])
    return reversal


# --- the registry's likely duplicates -------------------------------------------------------------


def duplicates_find(*, threshold: float = 0.9) -> int:
    """Compare the registry's persons with each other (today's record and every former one) and list
    the likely duplicates for the registrar. Nothing is merged."""
    index = index_persons(history=True)
    persons = list(index.persons.values())
    pairs: list[tuple[str, str]] = []
    vectors: list[list[int]] = []
    seen: set[tuple[str, str]] = set()
    for person in persons:
        current = person.facets[-1]
        entry = engine.Entry(
            key=person.key,
            given=current.given,
            surname=current.surname,
            dob=person.dob,
            sex=person.sex,
            address=current.address,
            settlement=current.settlement,
            parish=current.parish,
            mother=person.mother,
            father=person.father,
        )
        for other in index.candidates(entry):
            key = (min(person.key, other), max(person.key, other))
            if other == person.key or key in seen:
                continue
            seen.add(key)
            pairs.append(key)
            vectors.append(engine.compare(entry, index.persons[other], history=True))
    entries = [
        engine.Entry(key=p.key, given=p.facets[-1].given, surname=p.facets[-1].surname, dob=p.dob, sex=p.sex)
        for p in persons[:2000]
    ]
    u = engine.u_estimate(entries, persons[:2000], history=True)
    gammas = np.array(vectors, dtype=np.int8).reshape(len(vectors), -1)
    model = engine.em_estimate(gammas, u, prior=0.01)
    _w, probabilities = engine.scores(gammas, model)
    now = timezone.now()
    found = [
        Duplicate(uin_a=a, uin_b=b, probability=float(p), found_at=now)
        for (a, b), p in zip(pairs, probabilities, strict=True)
        if p >= threshold
    ]
    with transaction.atomic():
        Duplicate.objects.all().delete()
        Duplicate.objects.bulk_create(found)
    return len(found)


def outcomes_of(source: str) -> Iterable[tuple[str, str, float | None, str]]:
    """Each record's id, UIN, match probability and status, in the order of the file."""
    src = _source(source)
    return (
        Record.objects.filter(source=src)
        .order_by("line", "pk")
        .values_list("record_id", "uin", "probability", "status")
    )

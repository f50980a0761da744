"""Bulk loading of a synthetic nation into an empty registry.

The loader replays each person's life in date order and checks every fact with the same rules the
registration services use (``gov21.registry.rules``); a violation stops the load. It writes the same
rows the services would (persons, full-snapshot versions, registered events with gap-free numbers,
unions) but in large batches: executemany on SQLite, COPY on PostgreSQL, with secondary indexes
built once at the end. A million people load in minutes instead of hours. Seeded events carry who
registered them and when, but not the intermediate workflow steps, which never happened.
"""

from __future__ import annotations

import heapq
import importlib
import queue
import sys
import threading
import time as time_
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db import connection, transaction

from gov21.core.errors import DomainError
from gov21.core.ids import uin_generate_batch
from gov21.demo.synthetic import Nation, SynthPerson
from gov21.registry import rules, services
from gov21.registry.models import Person
from gov21.registry.records import PersonFacts
from gov21.registry.services import SNAPSHOT_FIELDS

AUTHOR = "seed"


@dataclass(slots=True)
class _Change:
    on: date
    order: int
    kind: str  # address | marriage | divorce | widowed | death | name
    payload: dict[str, Any]
    event_id: int


@dataclass(slots=True)
class LoadStats:
    persons: int = 0
    versions: int = 0
    events: int = 0
    unions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    # The UIN issued to each simulated person, by key: what the places' owners are loaded under.
    uins: list[str] = field(default_factory=list, repr=False)


def _noon_utc(day: date, tz: ZoneInfo) -> datetime:
    # Registrations of the past are stamped at midday local time on the day they were registered.
    return datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


REGISTRY_TABLES = (
    "registry_person",
    "registry_personversion",
    "registry_lifeevent",
    "registry_union",
    "registry_eventtransition",
)


@contextmanager
def _bulk_mode(timings: dict[str, float]) -> Iterator[None]:
    """Drop secondary indexes (and, on PostgreSQL, foreign keys; on SQLite, the search triggers) for
    the load and rebuild them afterwards: building an index once over sorted data is many times
    faster than maintaining it row by row. Runs inside the loading transaction, so a failure leaves
    the schema as it was."""
    name_search = importlib.import_module("gov21.registry.migrations.0005_name_search_words")
    counts = importlib.import_module("gov21.registry.migrations.0007_population_counted_by_month")
    tables = ", ".join(f"'{t}'" for t in REGISTRY_TABLES)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size=-1048576")
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({tables})"  # noqa: S608
            )
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for sql in [*name_search.SQLITE_DROP_TRIGGERS, *counts.SQLITE_DROP_TRIGGERS]:
                cursor.execute(sql)
            yield
            started = time_.perf_counter()
            for _, sql in indexes:
                cursor.execute(sql)
            timings["btree"] = round(time_.perf_counter() - started, 2)
            cursor.execute(name_search.SQLITE_REBUILD)
            for sql in [*name_search.SQLITE_TRIGGERS, *counts.count_rebuild("sqlite"), *counts.SQLITE_TRIGGERS]:
                cursor.execute(sql)
            cursor.execute("PRAGMA cache_size=-65536")
            return
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [list(REGISTRY_TABLES)],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            [list(REGISTRY_TABLES)],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # The population's counts are made once after the load, not a row at a time (decision 0081).
        cursor.execute("ALTER TABLE registry_person DISABLE TRIGGER registry_person_count")
        yield
        cursor.execute("ALTER TABLE registry_person ENABLE TRIGGER registry_person_count")
        for sql in counts.count_rebuild("postgresql"):
            cursor.execute(sql)
        for _, sql in indexes:
            cursor.execute(sql)
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        # Without statistics the planner guesses at a name search's matches and may walk every row in
        # id order instead of asking the search index (seconds on a large nation, decision 0032).
        for table in REGISTRY_TABLES:
            cursor.execute(f"ANALYZE {table}")


class _Writer:
    """Accumulates rows per table and hands full batches to a writer thread.

    The thread uses the same database connection (so the load stays one transaction) while the main
    thread builds the next batch; the database drivers release the GIL while the engine works, so
    building and writing overlap on two cores. The main thread never touches the connection while
    the writer runs, and ``close`` waits for every batch to be written.
    """

    def __init__(self, batch: int = 20_000) -> None:
        self.rows: dict[str, list[tuple[object, ...]]] = defaultdict(list)
        self.columns: dict[str, Sequence[str]] = {}
        self.batch = batch
        self.vendor = connection.vendor
        connection.ensure_connection()
        self.raw = connection.connection
        self.queue: queue.Queue[tuple[str, list[tuple[object, ...]]] | None] = queue.Queue(maxsize=3)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, name="bulk-writer", daemon=True)
        self.thread.start()

    def add(self, table: str, columns: Sequence[str], row: tuple[object, ...]) -> None:
        self.columns.setdefault(table, columns)
        rows = self.rows[table]
        rows.append(row)
        if len(rows) >= self.batch:
            self._send(table)

    def _send(self, table: str) -> None:
        if self.failure is not None:
            raise self.failure
        rows = self.rows[table]
        if rows:
            self.queue.put((table, rows))
            self.rows[table] = []

    def close(self) -> None:
        """Write what is left and wait for the writer; re-raises a failure of the writer."""
        for table in list(self.rows):
            self._send(table)
        self.queue.put(None)
        self.thread.join()
        if self.failure is not None:
            raise self.failure

    def _drain(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.failure is not None:
                continue
            table, rows = item
            try:
                self._write(table, rows)
            except BaseException as exc:
                self.failure = exc

    def _write(self, table: str, rows: list[tuple[object, ...]]) -> None:
        cols = ", ".join(self.columns[table])
        if self.vendor == "postgresql":
            with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns[table]))
            self.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608


# The person table's columns: the record's own, then the links and the bookkeeping the table adds.
PERSON_OWN_COLS = PersonFacts.columns()
PERSON_COLS = ("id", *PERSON_OWN_COLS, "mother_id", "father_id", "version", "name_norm", "family_key", "updated_at")
VERSION_COLS = (
    "id", "person_id", "version", "recorded_at", "effective_date", "data", "changed", "reason", "author", "event_id",
)  # fmt: skip
EVENT_COLS = (
    "id", "kind", "state", "number", "event_date", "data", "subject_id", "partner_id", "declared_at", "declared_by",
    "registered_at", "registered_by", "timeliness", "rejection_reason", "correction_note", "has_open_duplicates",
    "mother_uin", "declarant_uin",
)  # fmt: skip
UNION_COLS = (
    "id", "partner_a_id", "partner_b_id", "married_on", "marriage_event_id", "dissolved_on", "dissolution",
    "divorce_event_id",
)  # fmt: skip


def load_nation(nation: Nation, *, progress: Callable[[str, int], None] | None = None) -> LoadStats:
    """Write ``nation`` into an empty registry, checking every rule. Returns counts."""
    if Person.objects.exists():
        raise DomainError("registry_not_empty", "The registry already holds people; seeding fills an empty one only.")
    marker = seed_marker()
    if marker.exists():
        raise DomainError("seed_interrupted", SEED_INTERRUPTED)
    loader = _Loader(nation, progress)
    fast_sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
    if fast_sqlite:
        marker.write_text("A synthetic nation is being loaded into this data directory.\n", encoding="utf-8")
        _sqlite_bulk_pragmas(on=True)
    try:
        with transaction.atomic():
            loader.run()
            if connection.vendor == "sqlite":
                _sqlite_check_references()
    finally:
        if fast_sqlite:
            _sqlite_bulk_pragmas(on=False)
            marker.unlink(missing_ok=True)
    return loader.stats


SEED_INTERRUPTED = (
    "Loading a synthetic nation into this data directory was interrupted, so its database may be "
    "incomplete. Delete the data directory (it held only synthetic data) and start again."
)


def seed_marker() -> Path:
    return Path(settings.DATA_DIR) / "seeding-incomplete"


def _sqlite_bulk_pragmas(*, on: bool) -> None:
    """For the load into an empty embedded database: no WAL (which would hold a second copy of every
    page until the end), no fsync, and no per-row foreign-key checks (all references are checked in
    one pass before the commit). A crash mid-load leaves the marker file, and the data directory is
    then started afresh; a failure that Python sees still rolls back."""
    with connection.cursor() as cursor:
        if on:
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA journal_mode=MEMORY")
            cursor.execute("PRAGMA synchronous=OFF")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")


def _sqlite_check_references() -> None:
    with connection.cursor() as cursor:
        for table in REGISTRY_TABLES:
            cursor.execute(f"PRAGMA foreign_key_check({table})")
            broken = cursor.fetchall()
            if broken:
                raise DomainError("seed_invalid", f"{len(broken)} broken references in {table}, e.g. {broken[0]}.")


class _Loader:
    def __init__(self, nation: Nation, progress: Callable[[str, int], None] | None) -> None:
        self.nation = nation
        self.progress = progress
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.min_parent_age = settings.GOV21_MIN_PARENT_AGE
        self.marriage_age = settings.GOV21_MARRIAGE_AGE
        self.target_days = settings.GOV21_REGISTRATION_TARGET_DAYS
        self.late_days = settings.GOV21_REGISTRATION_LATE_DAYS
        self.union_rows: list[tuple[object, ...]] = []
        self.stats = LoadStats()
        self.counters: dict[tuple[str, int], int] = defaultdict(int)
        self.next_event = 1
        self.next_version = 1
        self.uins: list[str] = []
        self.changes: dict[int, list[_Change]] = defaultdict(list)
        self.event_rows: list[tuple[Any, ...]] = []
        self.stamps: dict[date, str] = {}
        # SQLite stores aware datetimes as naive UTC text; PostgreSQL's COPY takes an explicit offset.
        self.stamp_suffix = "" if connection.vendor == "sqlite" else "+00:00"

    def _stamp(self, day: date) -> str:
        stamp = self.stamps.get(day)
        if stamp is None:
            stamp = _noon_utc(day, self.tz).replace(tzinfo=None).isoformat(" ") + self.stamp_suffix
            self.stamps[day] = stamp
        return stamp

    # -- helpers ------------------------------------------------------------------------------

    def _number(self, kind: str, registered: date) -> str:
        key = (kind, registered.year)
        self.counters[key] += 1
        return rules.registration_number(kind=kind, year=registered.year, sequence=self.counters[key])

    def _event(
        self,
        *,
        kind: str,
        on: date,
        registered: date,
        data: Mapping[str, object],
        subject: int | None,
        partner: int | None = None,
    ) -> int:
        event_id = self.next_event
        self.next_event += 1
        stamp = self._stamp(registered)
        timeliness = ""
        if kind in ("birth", "death"):
            timeliness = rules.timeliness(
                event_date=on, registered_on=registered, target_days=self.target_days, late_days=self.late_days
            )
        self.event_rows.append(
            (
                event_id, kind, "registered", None, on, data, subject, partner, stamp, AUTHOR,
                stamp, AUTHOR, timeliness, "", "", False, registered,
            )
        )  # fmt: skip
        return event_id

    # -- the load -----------------------------------------------------------------------------

    def _timed(self, phase: str, started: float) -> float:
        now = time_.perf_counter()
        self.stats.seconds[phase] = round(now - started, 2)
        return now

    def run(self) -> None:
        persons = self.nation.persons
        t = time_.perf_counter()
        self.uins = uin_generate_batch(len(persons))
        self.stats.uins = self.uins
        t = self._timed("uins", t)
        self._check_and_plan(persons)
        t = self._timed("check", t)
        # The writer thread gives up the GIL at every row it hands to the engine; a short switch
        # interval lets it take the GIL back promptly instead of waiting out the builder's 5 ms slice.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0002)
        try:
            self._write_all(persons)
        finally:
            sys.setswitchinterval(interval)
        t = self._timed("write", t)
        self._write_counters()
        self._reset_sequences()
        self.stats.persons = len(persons)

    def _write_all(self, persons: list[SynthPerson]) -> None:
        t = time_.perf_counter()
        with _bulk_mode(self.stats.seconds):
            self.writer = _Writer()
            for row in self.union_rows:
                self.writer.add("registry_union", UNION_COLS, row)
            self._write_events()
            t = self._timed("events", t)
            self._write_persons(persons)
            self.writer.close()
            t = self._timed("persons", t)
        self._timed("indexes", t)

    def _check_and_plan(self, persons: list[SynthPerson]) -> None:
        """Check every rule and plan the events and per-person changes, in date order."""
        today = self.nation.today
        by_key = persons
        for p in persons:
            if p.birth_date > today or p.birth_registered_on < p.birth_date or p.birth_registered_on > today:
                raise DomainError("seed_invalid", f"Person {p.key}: impossible birth or registration date.")
            for role, parent_key in (("mother", p.mother), ("father", p.father)):
                if parent_key is None:
                    continue
                parent = by_key[parent_key]
                rules.check_parent(
                    role=role,
                    parent_birth=parent.birth_date,
                    parent_sex=parent.sex,
                    parent_death=parent.death_date,
                    child_birth=p.birth_date,
                    min_age=self.min_parent_age,
                )
            if p.death_date is not None:
                rules.check_death(birth_date=p.birth_date, status="alive", death_date=p.death_date)
                if p.death_date > today:
                    raise DomainError("seed_invalid", f"Person {p.key}: death after today.")
            first = p.addresses[0] if p.addresses else None
            data = {
                "given_names": p.given_names,
                "family_name": p.family_name,
                "sex": p.sex,
                "birth_date": p.birth_date.isoformat(),
                "birth_parish": p.birth_parish,
                "birth_settlement": p.birth_settlement,
                "mother_uin": self.uins[p.mother] if p.mother is not None else None,
                "father_uin": self.uins[p.father] if p.father is not None else None,
                "address_parish": first.parish if first else p.birth_parish,
                "address_settlement": first.settlement if first else p.birth_settlement,
                "address_line": first.line if first else "",
                "informant": "",
            }
            # Birth events come first, in key order, so a person's birth event id is key + 1.
            self._event(kind="birth", on=p.birth_date, registered=p.birth_registered_on, data=data, subject=p.key + 1)
            if self.progress is not None and p.key % 10_000 == 0:
                self.progress("check", 10_000)
        for p in persons:
            for i, address in enumerate(p.addresses[1:], start=1):
                moved = {
                    "uin": self.uins[p.key],
                    "date": address.valid_from.isoformat(),
                    "parish": address.parish,
                    "settlement": address.settlement,
                    "line": address.line,
                }
                eid = self._event(
                    kind="address_change", on=address.valid_from, registered=address.valid_from, data=moved,
                    subject=p.key + 1,
                )  # fmt: skip
                self.changes[p.key].append(_Change(address.valid_from, 10 + i, "address", moved, eid))
            if p.death_date is not None:
                died = {
                    "uin": self.uins[p.key],
                    "death_date": p.death_date.isoformat(),
                    "place_parish": "",
                    "cause": "",
                    "informant": "",
                }
                registered = self._death_registered(p)
                eid = self._event(kind="death", on=p.death_date, registered=registered, data=died, subject=p.key + 1)
                self.changes[p.key].append(_Change(p.death_date, 90, "death", died, eid))
        self._plan_marriages(persons)
        self._plan_name_changes(persons)

    def _plan_marriages(self, persons: list[SynthPerson]) -> None:
        today = self.nation.today
        # Marriage rules need to know, on each date, whether a party is still married: replay in date order.
        open_union: dict[int, int] = {}
        ends: list[tuple[date, int, int, int]] = []  # heap of (end date, union, a, b)
        for union_id, m in enumerate(sorted(self.nation.marriages, key=lambda m: (m.date, m.key)), start=1):
            while ends and ends[0][0] < m.date:
                _, ended_union, a, b = heapq.heappop(ends)
                for ended_key in (a, b):
                    if open_union.get(ended_key) == ended_union:
                        del open_union[ended_key]
            pa, pb = persons[m.a], persons[m.b]
            for fld, party in (("partner_a_uin", pa), ("partner_b_uin", pb)):
                rules.check_marriage_party(
                    field=fld,
                    birth_date=party.birth_date,
                    status="deceased" if party.death_date is not None and party.death_date <= m.date else "alive",
                    death_date=party.death_date,
                    married=party.key in open_union,
                    on=m.date,
                    min_age=self.marriage_age,
                )
            open_union[pa.key] = union_id
            open_union[pb.key] = union_id
            end_candidates = [d for d in (m.divorce_date, pa.death_date, pb.death_date) if d is not None]
            ended = min(end_candidates) if end_candidates else None
            if ended is not None:
                heapq.heappush(ends, (ended, union_id, pa.key, pb.key))
            married = {
                "partner_a_uin": self.uins[pa.key],
                "partner_b_uin": self.uins[pb.key],
                "date": m.date.isoformat(),
                "parish": m.parish,
                "partner_a_new_family_name": "",
                "partner_b_new_family_name": "",
            }
            meid = self._event(
                kind="marriage", on=m.date, registered=m.date, data=married, subject=pa.key + 1, partner=pb.key + 1
            )
            self.changes[pa.key].append(_Change(m.date, 20, "marriage", married, meid))
            self.changes[pb.key].append(_Change(m.date, 20, "marriage", married, meid))
            divorce_eid = None
            dissolution = ""
            if ended is not None:
                if m.divorce_date is not None and ended == m.divorce_date:
                    if m.divorce_date > today:
                        raise DomainError("seed_invalid", f"Marriage {m.key}: divorce after today.")
                    dissolution = "divorce"
                    divorced = {
                        "partner_a_uin": self.uins[pa.key],
                        "partner_b_uin": self.uins[pb.key],
                        "date": m.divorce_date.isoformat(),
                        "court_reference": "",
                        "partner_a_new_family_name": "",
                        "partner_b_new_family_name": "",
                    }
                    divorce_eid = self._event(
                        kind="divorce", on=m.divorce_date, registered=m.divorce_date, data=divorced,
                        subject=pa.key + 1, partner=pb.key + 1,
                    )  # fmt: skip
                    self.changes[pa.key].append(_Change(m.divorce_date, 30, "divorce", divorced, divorce_eid))
                    self.changes[pb.key].append(_Change(m.divorce_date, 30, "divorce", divorced, divorce_eid))
                else:
                    dissolution = "death"
                    survivor = pb if pa.death_date == ended else pa
                    death_change = next(c for c in self.changes[persons[m.a if survivor is pb else m.b].key]
                                        if c.kind == "death")  # fmt: skip
                    self.changes[survivor.key].append(_Change(ended, 40, "widowed", {}, death_change.event_id))
            self.union_rows.append((union_id, pa.key + 1, pb.key + 1, m.date, meid, ended, dissolution, divorce_eid))
            self.stats.unions += 1

    def _plan_name_changes(self, persons: list[SynthPerson]) -> None:
        for p in persons:
            for on, new_family in p.name_changes:
                # A change of name on the day of a marriage or divorce is part of that registration.
                joined = next(
                    (c for c in self.changes[p.key] if c.on == on and c.kind in ("marriage", "divorce")), None
                )
                if joined is not None:
                    side = "a" if joined.payload["partner_a_uin"] == self.uins[p.key] else "b"
                    joined.payload[f"partner_{side}_new_family_name"] = new_family
                    continue
                renamed = {"uin": self.uins[p.key], "date": on.isoformat(), "given_names": "",
                           "family_name": new_family, "reason": "Deed poll"}  # fmt: skip
                eid = self._event(kind="name_change", on=on, registered=on, data=renamed, subject=p.key + 1)
                self.changes[p.key].append(_Change(on, 25, "name", renamed, eid))

    def _write_events(self) -> None:
        # Numbers are handed out in registration order so that each year's sequence is gap-free.
        self.event_rows.sort(key=lambda r: (r[-1], r[0]))
        for row in self.event_rows:
            (eid, kind, state, _, on, data, subject, partner, stamp, by, reg_at, reg_by, timeliness, rej, corr,
             dup, registered) = row  # fmt: skip
            number = self._number(kind, registered)
            self.writer.add(
                "registry_lifeevent",
                EVENT_COLS,
                (eid, kind, state, number, on, _json(data), subject, partner, stamp, by, reg_at, reg_by,
                 timeliness, rej, corr, dup, (data.get("mother_uin") or "") if kind == "birth" else "", ""),
            )  # fmt: skip
        self.stats.events = len(self.event_rows)
        self.event_rows = []

    def _write_persons(self, persons: list[SynthPerson]) -> None:
        for p in persons:
            self._write_person(p, persons)
            if self.progress is not None and p.key % 10_000 == 0:
                self.progress("write", 10_000)

    def _write_person(self, p: SynthPerson, persons: list[SynthPerson]) -> None:
        first = p.addresses[0] if p.addresses else None
        facts = PersonFacts(
            uin=self.uins[p.key],
            given_names=p.given_names,
            family_name=p.family_name,
            former_names=[],
            sex=p.sex,
            birth_date=p.birth_date,
            birth_parish=p.birth_parish,
            birth_settlement=p.birth_settlement,
            mother_uin=self.uins[p.mother] if p.mother is not None else None,
            father_uin=self.uins[p.father] if p.father is not None else None,
            citizenship="XA",
            address_parish=first.parish if first else p.birth_parish,
            address_settlement=first.settlement if first else p.birth_settlement,
            address_line=first.line if first else "",
            address_since=p.birth_date,
            marital_status="single",
            status="alive",
            death_date=None,
        )
        version = 1
        self._add_version(p.key, version, p.birth_registered_on, p.birth_date, facts, SNAPSHOT_FIELDS,
                          "Birth registered", p.key + 1)  # fmt: skip
        last_recorded = p.birth_registered_on
        for change in sorted(self.changes.get(p.key, ()), key=lambda c: (c.on, c.order)):
            before = facts
            facts, reason = self._apply(change, facts)
            version += 1
            changed = [k for k in SNAPSHOT_FIELDS if getattr(facts, k) != getattr(before, k)]
            recorded = max(change.on, last_recorded)
            if change.kind == "death":
                recorded = max(recorded, self._death_registered(p))
            last_recorded = recorded
            self._add_version(p.key, version, recorded, change.on, facts, changed, reason, change.event_id)
        own = (getattr(facts, column) for column in PERSON_OWN_COLS)
        self.writer.add(
            "registry_person",
            PERSON_COLS,
            (
                p.key + 1, *(_json(value) if isinstance(value, list) else value for value in own),
                p.mother + 1 if p.mother is not None else None, p.father + 1 if p.father is not None else None,
                version, rules.normalise_name(f"{facts.given_names} {facts.family_name}"),
                rules.family_key(facts.family_name), self._stamp(last_recorded),
            ),
        )  # fmt: skip

    def _death_registered(self, p: SynthPerson) -> date:
        # Deaths are registered a few days after they happen, never after today.
        assert p.death_date is not None
        return min(self.nation.today, date.fromordinal(p.death_date.toordinal() + 3 + p.key % 20))

    def _apply(self, change: _Change, facts: PersonFacts) -> tuple[PersonFacts, str]:
        """The person's facts after ``change``, changed by the registry's own rules, and the reason."""
        payload = change.payload
        if change.kind == "address":
            moved = services.facts_moved(
                facts,
                parish=payload["parish"],
                settlement=payload["settlement"],
                line=payload["line"],
                since=date.fromisoformat(payload["date"]),
            )
            return moved, "Change of address"
        if change.kind in ("marriage", "divorce"):
            side = "a" if payload["partner_a_uin"] == facts.uin else "b"
            new_family = payload[f"partner_{side}_new_family_name"]
            if change.kind == "marriage":
                return services.facts_married(facts, new_family_name=new_family), "Marriage registered"
            return services.facts_divorced(facts, new_family_name=new_family), "Divorce registered"
        if change.kind == "name":
            renamed = services.facts_renamed(
                facts, family_name=payload["family_name"], given_names=payload["given_names"]
            )
            return renamed, f"Change of name: {payload['reason']}"
        if change.kind == "widowed":
            return services.facts_widowed(facts), "Spouse died"
        return services.facts_deceased(facts, death_date=date.fromisoformat(payload["death_date"])), "Death registered"

    def _add_version(
        self,
        person_key: int,
        version: int,
        recorded: date,
        effective: date,
        facts: PersonFacts,
        changed: Iterable[str],
        reason: str,
        event_id: int | None,
    ) -> None:
        self.writer.add(
            "registry_personversion",
            VERSION_COLS,
            (
                self.next_version, person_key + 1, version, self._stamp(recorded), effective,
                _json(facts.model_dump()), _json(list(changed)), reason, AUTHOR, event_id,
            ),
        )  # fmt: skip
        self.next_version += 1
        self.stats.versions += 1

    def _write_counters(self) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO registry_registrationcounter (kind, year, last) VALUES (%s, %s, %s)",
                [(kind, year, last) for (kind, year), last in sorted(self.counters.items())],
            )

    def _reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in ("registry_person", "registry_personversion", "registry_lifeevent", "registry_union",
                          "registry_eventtransition"):  # fmt: skip
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )

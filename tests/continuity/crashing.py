"""A gov21 server killed with SIGKILL in the middle of a stream of birth registrations, restarted on
the same data, and the audit of what it left: used by ``test_crash.py`` and by ``bench/crash.py``.

The server is what ``gov21 up`` runs: gunicorn (here 2 workers of 4 threads) and the background worker
beside it, in one process group of their own, so one ``killpg`` stops every process at once.
Registrars' systems post births through the public API (declare, validate, register, issue the birth
certificate); an answer received in full is an acknowledgement. After the restart, everything
acknowledged must be there, and every row set that one step writes must be there whole or not at all.
Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import shlex
import signal
import socket
import string
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import psycopg

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
TOKEN_NAME = "crash-stream"
PRINCIPAL = f"token:{TOKEN_NAME}"
API = "/api/v1/registry"
SERVE_S = 60.0  # the longest a (re)start may take before it counts as a failure
REQUEST_S = 15.0
_SYLLABLES = ("ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "ri", "so", "tu", "va", "we")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a database of its own on a PostgreSQL server ---------------------------------------------------


def _admin(server_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    parsed = urlparse(server_url)
    return psycopg.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
        connect_timeout=5,
        autocommit=True,
    )


def pg_database_create(server_url: str) -> str:
    """A new, empty database on the server of ``server_url``, named after the URL's database part
    when it has one (so that people sharing a server can tell theirs apart); its URL."""
    prefix = unquote(urlparse(server_url).path.lstrip("/")) or "gov21"
    name = f"{prefix}_crash_{secrets.token_hex(4)}"
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    parsed = urlparse(server_url)
    return parsed._replace(path="/" + quote(name)).geturl()


def pg_database_drop(database_url: str) -> None:
    name = urlparse(database_url).path.lstrip("/")
    with _admin(database_url) as conn:
        # FORCE: a backend of the killed server may not have noticed yet that its client is gone.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


# --- the server ------------------------------------------------------------------------------------


@dataclass
class Server:
    """One data directory (and, on PostgreSQL, one database) and the processes serving it."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gov21-crash-")))
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    token: str = ""
    baseline_person: int = 0  # the highest person id before the first registration of the stream
    proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOV21_")}
        env.update(
            DJANGO_SETTINGS_MODULE="gov21.settings",
            GOV21_DATA_DIR=str(self.root),
            GOV21_BASE_URL=f"http://127.0.0.1:{self.port}",
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
        )
        if self.database_url:
            env["GOV21_DATABASE_URL"] = self.database_url
        return env

    def py(self, code: str, timeout: float = 180) -> str:
        """Run Python with Django set up on this data; the last line it printed."""
        script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
        out = subprocess.run(
            [sys.executable, "-c", script], env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if out.returncode != 0:
            raise RuntimeError(f"snippet failed on {self.root}:\n{out.stdout}\n{out.stderr}")
        return out.stdout.strip().splitlines()[-1]

    def prepare(self, *, people: int) -> None:
        """Migrate, seed a small nation, fill the UIN pool, set up the exchange (so registrations are
        published), create the registry's signing key, and a registrar's API token."""
        out = self.py(
            f"""
            import json
            from datetime import timedelta
            from django.core.management import call_command
            from gov21.exchange.contracts import exchange_bootstrap
            from gov21.identity.services import token_create
            from gov21.registry.keys import registry_keys
            from gov21.registry.models import Person
            call_command("migrate", verbosity=0)
            call_command("seed", people={people})
            call_command("uin_pool", verbosity=0)
            exchange_bootstrap()
            registry_keys().active_key()
            issued = token_create(name="{TOKEN_NAME}", role="registrar", lifetime=timedelta(days=2), created_by="test")
            top = Person.objects.order_by("-id").values_list("id", flat=True).first() or 0
            print(json.dumps({{"token": issued.token, "baseline": top}}))
            """
        )
        made = json.loads(out)
        self.token, self.baseline_person = str(made["token"]), int(made["baseline"])

    def start(self) -> float:
        """Start serving; the seconds until the registry API answered an authenticated request."""
        web = [
            str(BIN / "gunicorn"),
            "gov21.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "2",
            "--threads",
            "4",
            # As ``gov21 up``, with the access log; and at info, so a worker that dies or fails to boot
            # is in the log.
            "--access-logfile",
            "-",
            "--log-level",
            "info",
        ]
        worker = [sys.executable, "-m", "gov21.cli", "db_worker", "--interval", "1"]
        # One shell in a session of its own starts both, so both are in one process group.
        script = f"{shlex.join(worker)} & exec {shlex.join(web)}"
        started = time.monotonic()
        with (self.root / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", script], env=self.env(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = started + SERVE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = request(self.port, self.token, "GET", f"{API}/events?limit=1", timeout=2)
                if status == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
        raise TimeoutError(f"the server did not serve within {SERVE_S:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL every process of the server, at once."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._wait_group_gone()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
            self._wait_group_gone(timeout=15)
        except (subprocess.TimeoutExpired, TimeoutError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def _wait_group_gone(self, timeout: float = 10) -> None:
        """Until no process of the group runs any more, so that a restart never overlaps the old server.
        A killed process whose parent died first stays a zombie until init reaps it, which here can take
        seconds; it has exited, and closed its files and sockets, so it counts as gone."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _running_in_group(self.proc.pid):
                return
            time.sleep(0.02)
        raise TimeoutError(f"processes of group {self.proc.pid} still run")

    def log_tail(self, lines: int = 40) -> str:
        path = self.root / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def log_size(self) -> int:
        path = self.root / "server.log"
        return path.stat().st_size if path.exists() else 0

    def log_since(self, offset: int, limit: int = 6000) -> str:
        path = self.root / "server.log"
        if not path.exists():
            return ""
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return text if len(text) <= limit else f"[…]\n{text[-limit:]}"

    def audit(self, acks: Acks) -> dict[str, Any]:
        """Check the data against what was acknowledged, in a process of its own (see ``audit``)."""
        path = self.root / "acks.json"
        path.write_text(json.dumps(acks.to_json()))
        out = self.py(
            f"""
            import json
            from pathlib import Path
            from tests.continuity.crashing import audit
            acks = json.loads(Path({str(path)!r}).read_text())
            print(json.dumps(audit(acks=acks, principal={PRINCIPAL!r}, baseline_person={self.baseline_person})))
            """
        )
        return dict(json.loads(out))

    def persons_unreadable(self, registered: dict[int, tuple[str, str]]) -> list[str]:
        """Acknowledged registrations whose person the API does not serve as registered."""
        wrong = []
        for event_id, (number, uin) in sorted(registered.items()):
            status, body = request(
                self.port, self.token, "GET", f"{API}/persons/{uin}?purpose=restart+check", timeout=REQUEST_S
            )
            if status != 200 or body.get("uin") != uin:
                wrong.append(f"event {event_id} ({number}): GET persons/{uin} answered {status}")
        return wrong


def request(
    port: int, token: str, method: str, path: str, body: dict[str, Any] | None = None, *, timeout: float
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return _exchange(conn, token, method, path, body)
    finally:
        conn.close()


def _exchange(
    conn: http.client.HTTPConnection, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """One request on ``conn``; its status and JSON body, once the whole answer has arrived."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"text": raw[:300].decode(errors="replace")}
    return response.status, parsed if isinstance(parsed, dict) else {"items": parsed}


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` has not exited yet (Linux: read from /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the fields after it are fixed.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while the directory was read
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# --- the stream of registrations -------------------------------------------------------------------


@dataclass
class Acks:
    """What the server acknowledged: answers received in full, per step of a registration."""

    declared: set[int] = field(default_factory=set)
    validated: set[int] = field(default_factory=set)
    registered: dict[int, tuple[str, str]] = field(default_factory=dict)  # event id → (number, UIN)
    certified: dict[int, str] = field(default_factory=dict)  # event id → certificate serial
    cut_off: int = 0  # requests in flight when the server was killed
    refused: list[str] = field(default_factory=list)  # any other answer before the kill: a defect
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def merge(self, other: Acks) -> None:
        self.declared |= other.declared
        self.validated |= other.validated
        self.registered.update(other.registered)
        self.certified.update(other.certified)
        self.cut_off += other.cut_off
        self.refused.extend(other.refused)

    def to_json(self) -> dict[str, Any]:
        return {
            "declared": sorted(self.declared),
            "validated": sorted(self.validated),
            "registered": {str(k): list(v) for k, v in self.registered.items()},
            "certified": {str(k): v for k, v in self.certified.items()},
        }


def _name(rng: random.Random, syllables: int) -> str:
    # Made-up names that sound like no other, so the duplicate check has no reason to hold a birth.
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def birth(rng: random.Random) -> dict[str, Any]:
    # Two days back at least: the client's calendar day may be ahead of the registry's time zone.
    born = date.today() - timedelta(days=rng.randint(2, 40))
    return {
        "given_names": f"{_name(rng, 3)} {_name(rng, 2)}",
        "family_name": _name(rng, 5),
        "sex": rng.choice("FM"),
        "birth_date": born.isoformat(),
        "birth_parish": "XA-01",
        "birth_settlement": rng.choice(string.ascii_uppercase) + "town",
    }


def _client(server: Server, acks: Acks, killed: threading.Event, rng: random.Random) -> None:
    """Register births one after another until the server is killed."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_S)
    steps: list[tuple[str, str, int]] = [
        ("validate", "validate", 200),
        ("register", "register", 200),
        ("certify", "certificates", 201),
    ]
    try:
        while not killed.is_set():
            try:
                status, body = _exchange(conn, server.token, "POST", f"{API}/events/births", birth(rng))
            except (OSError, http.client.HTTPException) as error:
                _cut_off(acks, killed, "declare", error)
                return
            if status != 201:
                _refused(acks, "declare", status, body)
                return
            event_id = int(body["id"])
            with acks.lock:
                acks.declared.add(event_id)
            for step, path, expected in steps:
                if killed.is_set():
                    return
                try:
                    status, body = _exchange(conn, server.token, "POST", f"{API}/events/{event_id}/{path}")
                except (OSError, http.client.HTTPException) as error:
                    _cut_off(acks, killed, step, error)
                    return
                if status != expected:
                    _refused(acks, step, status, body)
                    return
                with acks.lock:
                    if step == "validate":
                        acks.validated.add(event_id)
                    elif step == "register":
                        acks.registered[event_id] = (str(body["number"]), str(body["subject_uin"]))
                    else:
                        acks.certified[event_id] = str(body["serial"])
    finally:
        conn.close()


def _cut_off(acks: Acks, killed: threading.Event, step: str, error: Exception) -> None:
    with acks.lock:
        if killed.is_set():
            acks.cut_off += 1
        else:
            acks.refused.append(f"{_now()} {step}: connection lost before the kill: {error!r}")


def _now() -> str:
    """The wall-clock time, to the millisecond, to set beside the server's log."""
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def _refused(acks: Acks, step: str, status: int, body: dict[str, Any]) -> None:
    with acks.lock:
        acks.refused.append(f"{_now()} {step}: HTTP {status} {json.dumps(body)[:300]}")


def stream_and_kill(server: Server, *, kill_after: float, clients: int, rng: random.Random) -> Acks:
    """``clients`` registrars' systems register births at once; the server is SIGKILLed after
    ``kill_after`` seconds, wherever its processes are. What was acknowledged."""
    acks = Acks()
    killed = threading.Event()
    threads = [
        threading.Thread(target=_client, args=(server, acks, killed, random.Random(rng.random())), daemon=True)
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(kill_after)
    killed.set()  # first, so that every request cut off from here on counts as in flight, not refused
    if server.proc is not None and server.proc.poll() is not None:
        acks.refused.append(f"{_now()} the server had exited with {server.proc.returncode} before the kill")
    server.kill()
    for thread in threads:
        thread.join(timeout=REQUEST_S + 5)
        if thread.is_alive():
            acks.refused.append("a client did not finish after the kill")
    return acks


# --- the audit, run with Django set up on the killed server's data ---------------------------------

_STEPS = ("declared", "validated", "registered", "certified")
_PUBLISHED = "birth.registered"


def audit(*, acks: dict[str, Any], principal: str, baseline_person: int) -> dict[str, Any]:
    """What was lost (acknowledged, but absent or incomplete) and what is half-written (a step whose
    rows are not all there, or a sequence with a gap), over every birth ``principal`` declared and
    over the registry as a whole.

    One registration writes, in one transaction per step: the declaration (``LifeEvent``, its
    ``declared`` transition, an access record); validation (state, transition); registration (the next
    number of the year's counter, a UIN out of the pool, the ``Person``, its version 1 pointing at the
    event, the transition, the published ``birth.registered`` event with one delivery per active
    subscription, an access record); the certificate (the ``Certificate``, the transition). All is read
    in one transaction, so that the background worker, writing meanwhile, cannot skew the snapshot.
    """
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        seen = _Stream.read(principal)
        lost = _lost(seen, acks)
        half = [*seen.half_written(), *_registry_gaps(seen, baseline_person), *_storage_faults()]
    return {
        "lost": lost,
        "half_written": half,
        "kept_unanswered": {
            step: sum(1 for i in seen.events if seen.reached(i, step)) - len(acks[step]) for step in _STEPS
        },
        "events": len(seen.events),
        "registered": len(seen.registered_persons()),
    }


@dataclass
class _Stream:
    """Every row the stream's steps write, read at once."""

    events: dict[int, dict[str, Any]]
    transitions: dict[int, list[tuple[str, str]]]
    declare_records: dict[int, int]  # event id → access records of its declaration
    register_records: dict[str, int]  # registration number → access records of its registration
    versions: dict[int, list[tuple[int, int]]]  # event id → (person id, version) rows pointing at it
    persons: dict[int, dict[str, Any]]
    published: dict[str, int]  # idempotency key → published event id
    deliveries: dict[int, int]  # published event id → deliveries queued
    subscriptions: int
    certificates: dict[int, list[tuple[str, str]]]  # event id → (serial, status)

    @classmethod
    def read(cls, principal: str) -> _Stream:
        from django.db.models import Count

        from gov21.audit.models import AccessRecord
        from gov21.exchange.models import Delivery, Subscription
        from gov21.exchange.models import Event as Published
        from gov21.registry.models import Certificate, EventTransition, LifeEvent, Person, PersonVersion

        events = {e["id"]: dict(e) for e in LifeEvent.objects.filter(declared_by=principal).values()}
        ids = list(events)
        seen = cls(
            events=events,
            transitions={i: [] for i in ids},
            declare_records={},
            register_records={},
            versions={i: [] for i in ids},
            persons={
                p["id"]: dict(p)
                for p in Person.objects.filter(id__in=[e["subject_id"] for e in events.values()]).values()
            },
            published=dict(Published.objects.filter(event_type__code=_PUBLISHED).values_list("idempotency_key", "id")),
            deliveries=dict(
                Delivery.objects.filter(event__event_type__code=_PUBLISHED)
                .values_list("event_id")
                .annotate(n=Count("id"))
                .values_list("event_id", "n")
            ),
            subscriptions=Subscription.objects.filter(event_type__code=_PUBLISHED, active=True).count(),
            certificates={i: [] for i in ids},
        )
        for event_id, frm, to in (
            EventTransition.objects.filter(event_id__in=ids)
            .order_by("id")
            .values_list("event_id", "from_state", "to_state")
        ):
            seen.transitions[event_id].append((frm, to))
        records = AccessRecord.objects.filter(actor=principal, action__in=["declare.birth", "register.birth"])
        for action, detail in records.values_list("action", "detail"):
            if action == "declare.birth":
                seen.declare_records[int(detail["event"])] = seen.declare_records.get(int(detail["event"]), 0) + 1
            else:
                seen.register_records[detail["number"]] = seen.register_records.get(detail["number"], 0) + 1
        for event_id, person_id, version in PersonVersion.objects.filter(event_id__in=ids).values_list(
            "event_id", "person_id", "version"
        ):
            seen.versions[event_id].append((person_id, version))
        for event_id, serial, status in Certificate.objects.filter(event_id__in=ids).values_list(
            "event_id", "serial", "status"
        ):
            seen.certificates[event_id].append((serial, status))
        return seen

    def reached(self, event_id: int, step: str) -> bool:
        event = self.events.get(event_id)
        return event is not None and _STEPS.index(event["state"]) >= _STEPS.index(step)

    def registered_persons(self) -> set[int]:
        return {e["subject_id"] for e in self.events.values() if e["number"] is not None}

    def half_written(self) -> list[str]:
        """Each birth declared through the API, whole at whatever step it reached."""
        half: list[str] = []
        for event_id, event in self.events.items():
            where = f"event {event_id} ({event['state']})"
            if event["state"] not in _STEPS:
                half.append(f"{where}: a state the stream never asks for")
                continue
            half.extend(f"{where}: {fault}" for fault in self._event_faults(event_id, event))
        return half

    def _event_faults(self, event_id: int, event: dict[str, Any]) -> list[str]:
        faults: list[str] = []
        state, number = event["state"], event["number"]
        steps = self.transitions[event_id]
        walked = [to for _, to in steps]
        chained = all(frm == prev for (frm, _), prev in zip(steps, ["", *walked[:-1]], strict=True))
        if walked != list(_STEPS[: _STEPS.index(state) + 1]) or not chained:
            faults.append(f"transitions {steps}")
        if self.declare_records.get(event_id) != 1:
            faults.append(f"{self.declare_records.get(event_id, 0)} access records of its declaration")
        person = self.persons.get(event["subject_id"])
        if state in ("registered", "certified"):
            if number is None or event["registered_at"] is None or person is None:
                return [*faults, f"number {number}, registered at {event['registered_at']}, person {person}"]
            facts = event["data"]
            if (person["given_names"], person["family_name"], person["birth_date"].isoformat()) != (
                facts["given_names"],
                facts["family_name"],
                facts["birth_date"],
            ):
                faults.append(f"person {person['uin']} does not carry the declared facts")
            if self.versions[event_id] != [(person["id"], 1)]:
                faults.append(f"history rows pointing at it: {self.versions[event_id]}")
            if self.register_records.get(number) != 1:
                faults.append(f"{self.register_records.get(number, 0)} access records of registration {number}")
            published = self.published.get(f"{number}:{_PUBLISHED}")
            if published is None:
                faults.append(f"{number} registered but never published")
            elif self.deliveries.get(published, 0) != self.subscriptions:
                faults.append(f"{self.deliveries.get(published, 0)} deliveries for {self.subscriptions} subscriptions")
        elif number is not None or person is not None or event["registered_at"] is not None or self.versions[event_id]:
            faults.append(f"not registered, yet number {number}, person {person}, history {self.versions[event_id]}")
        certificates = self.certificates[event_id]
        if certificates != [(s, "valid") for s, _ in certificates[:1]] or (state == "certified") != bool(certificates):
            faults.append(f"certificates {certificates}")
        return faults


def _lost(seen: _Stream, acks: dict[str, Any]) -> list[str]:
    """What was acknowledged and is not there, at the step acknowledged or a later one."""
    lost: list[str] = []
    for event_id in acks["declared"]:
        if not seen.reached(event_id, "declared"):
            lost.append(f"declaration {event_id} was acknowledged and is gone")
    for event_id in acks["validated"]:
        if not seen.reached(event_id, "validated"):
            lost.append(f"validation of {event_id} was acknowledged and is not recorded")
    for key, (number, uin) in acks["registered"].items():
        event = seen.events.get(int(key))
        person = seen.persons.get(event["subject_id"]) if event is not None else None
        if event is None or not seen.reached(int(key), "registered") or event["number"] != number or person is None:
            lost.append(f"registration {number} (event {key}, UIN {uin}) was acknowledged and is not there")
        elif person["uin"] != uin:
            lost.append(f"registration {number} was acknowledged with UIN {uin}; the record says {person['uin']}")
    for key, serial in acks["certified"].items():
        if (serial, "valid") not in seen.certificates.get(int(key), []):
            lost.append(f"certificate {serial} of event {key} was acknowledged and is not there")
    return lost


def _registry_gaps(seen: _Stream, baseline_person: int) -> list[str]:
    """Across the whole registry: histories without gaps, registration numbers and published sequence
    numbers without gaps or strays, no person without its registration, no UIN both issued and free."""
    from django.db.models import Count, F, Max, Min, Q

    from gov21.exchange.models import Event as Published
    from gov21.exchange.models import EventType
    from gov21.registry.models import Certificate, LifeEvent, Person, RegistrationCounter, UinPoolEntry
    from gov21.registry.rules import registration_number

    gaps: list[str] = []
    for uin, version, n, lo, hi in (
        Person.objects.annotate(n=Count("versions"), lo=Min("versions__version"), hi=Max("versions__version"))
        .filter(~Q(n=F("version")) | ~Q(lo=1) | ~Q(hi=F("version")))
        .values_list("uin", "version", "n", "lo", "hi")[:20]
    ):
        gaps.append(f"person {uin}: version {version}, history of {n} rows from {lo} to {hi}")
    strays = Person.objects.filter(id__gt=baseline_person).exclude(id__in=seen.registered_persons())
    for uin in strays.values_list("uin", flat=True)[:20]:
        gaps.append(f"person {uin} exists without the registration that created it")
    counted: set[str] = set()
    for counter in RegistrationCounter.objects.all():
        counted |= {
            registration_number(kind=counter.kind, year=counter.year, sequence=s) for s in range(1, counter.last + 1)
        }
    numbers = {n for n in LifeEvent.objects.values_list("number", flat=True) if n is not None}
    gaps.extend(f"registration number {n} was counted and belongs to no event" for n in sorted(counted - numbers)[:20])
    gaps.extend(f"registration number {n} is beyond its counter" for n in sorted(numbers - counted)[:20])
    for uin in UinPoolEntry.objects.filter(uin__in=Person.objects.values("uin")).values_list("uin", flat=True)[:20]:
        gaps.append(f"UIN {uin} is issued and still in the pool")
    for code, last, n, hi in EventType.objects.annotate(n=Count("events"), hi=Max("events__seq")).values_list(
        "code", "last_seq", "n", "hi"
    ):
        if not n == (hi or 0) == last:
            gaps.append(f"published {code}: last number {last}, {n} events, highest {hi}")
    for key, number in Published.objects.filter(event_type__code=_PUBLISHED).values_list(
        "idempotency_key", "payload__number"
    ):
        if number not in numbers:
            gaps.append(f"published {key} names no registration")
    for serial in Certificate.objects.exclude(event__state="certified").values_list("serial", flat=True)[:20]:
        gaps.append(f"certificate {serial} of an event that is not certified")
    return gaps


def _storage_faults() -> list[str]:
    """The database's own check of itself (SQLite), and the exchange's hash chains."""
    from django.db import connection

    from gov21.exchange import chain, node
    from gov21.exchange.models import ChainHead

    faults: list[str] = []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            integrity = [row[0] for row in cursor.fetchall()]
            cursor.execute("PRAGMA foreign_key_check")
            dangling = cursor.fetchall()
        if integrity != ["ok"]:
            faults.append(f"SQLite integrity check: {integrity[:5]}")
        if dangling:
            faults.append(f"SQLite foreign key check: {dangling[:5]}")
    for name in ChainHead.objects.values_list("chain", flat=True):
        if not chain.verify(name, node.verify_own).ok:
            faults.append(f"hash chain {name} does not verify")
    return faults


# --- trials ----------------------------------------------------------------------------------------


@dataclass
class Trial:
    kill_after: float
    acknowledged: int  # registrations acknowledged in this trial
    cut_off: int
    restart_s: float
    lost: list[str]
    half_written: list[str]
    refused: list[str]
    kept_unanswered: dict[str, int]  # over every trial so far: steps committed whose answer never came
    log: str = ""  # the server's log during the trial, when something was wrong


def trial(server: Server, total: Acks, *, rng: random.Random, clients: int = 3) -> Trial:
    """One stream killed at a random moment, the restart, and the audit of everything so far. The server
    must be serving when called; it is serving again on return."""
    kill_after = rng.uniform(0.3, 2.0)
    log_from = server.log_size()
    acks = stream_and_kill(server, kill_after=kill_after, clients=clients, rng=rng)
    total.merge(acks)
    restart_s = server.start()
    report = server.audit(total)
    lost = list(report["lost"]) + server.persons_unreadable(acks.registered)
    wrong = bool(lost or report["half_written"] or acks.refused)
    return Trial(
        kill_after=kill_after,
        acknowledged=len(acks.registered),
        cut_off=acks.cut_off,
        restart_s=restart_s,
        lost=lost,
        half_written=list(report["half_written"]),
        refused=acks.refused,
        kept_unanswered=dict(report["kept_unanswered"]),
        log=server.log_since(log_from) if wrong else "",
    )

"""Publish/subscribe through the exchange (GovStack Information Mediator's Pub/Sub layer; X-Road has
none).

An event type is registered in the directory with the one subsystem allowed to publish it. A
publisher calls :func:`event_publish` inside the transaction that makes the change, so the event
commits with it or not at all (an outbox): each event gets the next sequence number of its type and
a delivery row for every active subscription.

Subscribers receive each event at least once, in sequence order:

* push: :func:`deliveries_run` POSTs the event to the subscriber's own exchange service, as the
  publisher, through the gateway, so each delivery is signed, rights-checked and logged at both
  ends. Deliveries are rows of the one outbox (``core.outbox``: leases, backoff with jitter, dead
  letters); after ``MAX_ATTEMPTS`` the delivery is dead and blocks later events for that
  subscription until :func:`delivery_retry` (or the back office's outbox page) requeues it.
* pull: the subscriber calls ``GET /{event_type}?after=<seq>`` on the exchange's own events service
  and acknowledges with ``POST /{event_type}/ack``; the acknowledged position is kept as delivered
  delivery rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final, TypedDict

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task
from pydantic import JsonValue

from gov21.core import config
from gov21.core.errors import DomainError, Forbidden, NotFound
from gov21.core.loops import batches_loop
from gov21.core.outbox import Outbox, outbox_claim, outbox_done, outbox_fail, outbox_register, outbox_requeue
from gov21.exchange import directory, node
from gov21.exchange.errors import SERVER_PROXY
from gov21.exchange.ids import ServiceId
from gov21.exchange.models import Delivery, Event, EventType, Subscription
from gov21.exchange.router import LOCAL_HANDLERS, ServiceRequest, ServiceResponse, problem_response
from gov21.exchange.selectors import service_get, subsystem_get
from gov21.exchange.services import right_grant, service_add

logger = logging.getLogger("gov21.exchange.pubsub")

MAX_ATTEMPTS: Final = 12
BACKOFF_BASE_S: Final = 5.0
BACKOFF_CAP_S: Final = 3600.0
# How long a worker owns the delivery it is sending: longer than the gateway waits for a provider,
# so a second worker never sends the same subscription's events out of order.
CLAIM_S: Final = 120.0
PULL_LIMIT_MAX: Final = 1000
RUN_LIMIT: Final = 100

# The civil registry's events: what happened, to whom (UINs) and when. Subscribers read anything
# else through the persons service, where each read is recorded for the citizen.
REGISTRY_EVENT_TYPES: Final = (
    ("birth.registered", "A birth was registered", "uin"),
    ("death.registered", "A death was registered", "uin"),
    ("marriage.registered", "A marriage was registered", "uins"),
    ("name.changed", "A change of name was registered", "uin"),
    ("address.changed", "A change of address was registered", "uin"),
)

# The land register's decisions: the transaction's number, kind, parcels and day (never who holds them).
LAND_EVENT_TYPES: Final = (
    ("land.registered", "A land transaction was registered"),
    ("land.rejected", "A land transaction was rejected"),
    ("land.inheritance_opened", "An inheritance of a deceased owner's land was opened"),
)

# The reporting desk's reports, as the public sees them (never who reported nor what they wrote):
# each agency that receives reports pulls them, beside its queue on PORTAL/concerns/reports.
CONCERN_EVENT_TYPES: Final = (
    ("concern.reported", "A problem was reported to an agency"),
    ("concern.updated", "A reported problem's status, agency or public update changed"),
)
CONCERN_AGENCIES: Final = ("PWD/works", "WSA/water", "SWA/waste")

# The one-stop shop's applications, for the statistics office: the service, the day and the outcome,
# never the applicant nor the application's reference.
APPLICATION_EVENT_TYPES: Final = (
    ("application.submitted", "An application was submitted to the one-stop shop"),
    ("application.decided", "An application to the one-stop shop was decided"),
)


def _gov(tail: str) -> str:
    return f"{config.INSTANCE.read()}/GOV/{tail}"


# --- directory: event types and subscriptions ------------------------------------------------------


@transaction.atomic
def event_type_add(
    *, code: str, publisher: str, description: str = "", schema: dict[str, JsonValue] | None = None
) -> EventType:
    """Register (or update) an event type and the subsystem that alone may publish it."""
    code = code.strip()
    if not code or len(code) > 100 or "/" in code:
        raise DomainError("invalid_event_type", "An event type is a short name without '/'", field="code")
    publisher = str(subsystem_get(publisher))
    event_type, created = EventType.objects.get_or_create(
        code=code, defaults={"publisher": publisher, "description": description, "schema": schema or {}}
    )
    if not created:
        event_type.publisher = publisher
        event_type.description = description or event_type.description
        if schema is not None:
            event_type.schema = schema
        event_type.save(update_fields=["publisher", "description", "schema"])
    directory.conf_publish()
    return event_type


@transaction.atomic
def subscription_add(*, event_type: str, subscriber: str, mode: str, endpoint: str = "") -> Subscription:
    """Subscribe a subsystem to an event type, by push (to ``endpoint``, one of the subscriber's own
    services) or by pull. Subscribing again changes the mode or endpoint and reactivates it."""
    etype = EventType.objects.filter(code=event_type).first()
    if etype is None:
        raise NotFound("unknown_event_type", f"No event type {event_type}", field="event_type")
    sub = subsystem_get(subscriber)
    subscriber = str(sub)
    if mode not in (Subscription.PUSH, Subscription.PULL):
        raise DomainError("invalid_mode", "A subscription is push or pull", field="mode")
    if mode == Subscription.PUSH:
        service = service_get(endpoint)
        if service.subsystem_id != sub.pk:
            raise DomainError(
                "endpoint_not_owned", "Events are pushed to one of the subscriber's own services", field="endpoint"
            )
        endpoint = str(ServiceId.parse(endpoint))
    else:
        endpoint = ""
    subscription, _ = Subscription.objects.update_or_create(
        event_type=etype, subscriber=subscriber, defaults={"mode": mode, "endpoint": endpoint, "active": True}
    )
    return subscription


# --- publishing ----------------------------------------------------------------------------------


def event_publish(*, publisher: str, event_type: str, payload: dict[str, object], idempotency_key: str) -> int:
    """Record an event in the caller's transaction and queue it for every active subscription; its
    sequence number. Publishing the same idempotency key again returns the first event's number."""
    return event_publish_many(publisher=publisher, event_type=event_type, events=[(payload, idempotency_key)])[0]


@transaction.atomic
def event_publish_many(
    *, publisher: str, event_type: str, events: Sequence[tuple[dict[str, object], str]]
) -> list[int]:
    """Record events of one type, each a payload and its idempotency key, in the caller's transaction
    and queue each for every active subscription; their sequence numbers, in order. The type's row
    is locked, its subscriptions read and the rows written once for all of them (a batch of births
    publishes its registrations in one go). A key published before, or twice here, keeps its first
    event's number."""
    for payload, idempotency_key in events:
        if not idempotency_key or len(idempotency_key) > 200:
            raise DomainError("invalid_idempotency_key", "Give an idempotency key of 1 to 200 characters")
        if not isinstance(payload, dict):
            raise DomainError("invalid_payload", "An event's payload is a JSON object", field="payload")
    # Every registration publishes, so the reads and updates of the type are written by hand: their
    # compilation through the ORM cost more CPU than the rest of the publishing (profiled).
    types, events_table = EventType._meta.db_table, Event._meta.db_table
    with connection.cursor() as cursor:
        # The lock orders publishers of one type, so sequence numbers have no gaps and no repeats.
        lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"SELECT id, publisher, last_seq FROM {types} WHERE code = %s{lock}", [event_type])  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            raise NotFound("unknown_event_type", f"No event type {event_type}", field="event_type")
        type_id, owner, last_seq = int(row[0]), str(row[1]), int(row[2])
        if owner != publisher:
            raise Forbidden("not_publisher", f"{publisher} does not publish {event_type}")
        keys = [key for _, key in events]
        cursor.execute(
            f"SELECT idempotency_key, seq FROM {events_table} WHERE event_type_id = %s "  # noqa: S608
            f"AND idempotency_key IN ({', '.join(['%s'] * len(keys))})",
            [type_id, *keys],
        )
        known: dict[str, int] = {str(k): int(seq) for k, seq in cursor.fetchall()}
        new: list[Event] = []
        for payload, key in events:
            if key not in known:
                last_seq += 1
                known[key] = last_seq
                new.append(Event(event_type_id=type_id, seq=last_seq, idempotency_key=key, payload=payload))
        if not new:
            return [known[key] for key in keys]
        cursor.execute(f"UPDATE {types} SET last_seq = %s WHERE id = %s", [last_seq, type_id])  # noqa: S608
        cursor.execute(
            f"SELECT id, mode FROM {Subscription._meta.db_table} WHERE event_type_id = %s AND active",  # noqa: S608
            [type_id],
        )
        subscriptions = cursor.fetchall()
    Event.objects.bulk_create(new)
    Delivery.objects.bulk_create(
        [Delivery(subscription_id=sub_id, event=e) for e in new for sub_id, _mode in subscriptions]
    )
    if any(mode == Subscription.PUSH for _id, mode in subscriptions):
        _kick_once()
    return [known[key] for key in keys]


@task()
def deliveries_kick() -> int:
    """Deliver what is due now, on the background worker, instead of waiting for the next loop."""
    return deliveries_run()


def _kicked() -> None:
    """Marks, among the transaction's commit hooks, that its deliveries have been queued."""


def _kick_once() -> None:
    """Queue the worker's delivery run in the publishing transaction, once per transaction: the task
    row commits with the events it is for (the worker sees neither before), where a task enqueued
    after the commit was a second write transaction, and a second fsync on PostgreSQL, per
    registration. A transaction that publishes several events (a batch of births) queues one run."""
    if any(hook is _kicked for _sids, hook, _robust in transaction.get_connection().run_on_commit):
        return
    deliveries_kick.enqueue()
    transaction.on_commit(_kicked)


class EventBody(TypedDict):
    """One event as it is delivered or pulled: its type, number, idempotency key, time and payload."""

    event_type: str
    seq: int
    idempotency_key: str
    published_at: str
    payload: object


class EventsPage(TypedDict):
    """A pull's answer: the events after a position, the acknowledged position and where to go on."""

    event_type: str
    events: list[EventBody]
    acked: int
    next_after: int


def event_body(event: Event, event_type: str) -> EventBody:
    return {
        "event_type": event_type,
        "seq": event.seq,
        "idempotency_key": event.idempotency_key,
        "published_at": event.published_at.isoformat(),
        "payload": event.payload,
    }


# --- push delivery -------------------------------------------------------------------------------


def _describe(delivery: Delivery) -> str:
    event = delivery.event
    return f"{event.event_type.code} #{event.seq} to {delivery.subscription.subscriber}"


DELIVERIES: Final = outbox_register(
    Outbox(
        name="deliveries",
        title="Event deliveries",
        item="delivery",
        model=Delivery,
        permission="exchange.admin",
        waiting=Delivery.PENDING,
        done=Delivery.DELIVERED,
        dead=Delivery.DEAD,
        done_at="delivered_at",
        describe=_describe,
        related=("event__event_type", "subscription"),
        max_attempts=MAX_ATTEMPTS,
        backoff_base_s=BACKOFF_BASE_S,
        backoff_cap_s=BACKOFF_CAP_S,
        jitter=0.1,
        lease_s=CLAIM_S,
    )
)


def _error_of(status: int, error: str, body: bytes) -> str:
    try:
        problem = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        problem = {}
    detail = (problem.get("message") or problem.get("detail") or "") if isinstance(problem, dict) else ""
    return f"{status} {error or 'provider error'}: {detail}".strip()[:500]


def _send(delivery: Delivery) -> tuple[bool, str]:
    from gov21.exchange.contracts import exchange_call

    event = delivery.event
    code = event.event_type.code
    try:
        result = exchange_call(
            client=event.event_type.publisher,
            service=delivery.subscription.endpoint,
            method="POST",
            path="/",
            body=orjson.dumps(event_body(event, code)),
            content_type="application/json",
            issue=f"event {code} #{event.seq}",
        )
    except Exception as exc:
        logger.exception("delivery %s failed", delivery.pk)
        return False, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= result.status < 300 and not result.error:
        return True, ""
    return False, _error_of(result.status, result.error, result.body)


def _deliver_head(subscription_id: int) -> bool | None:
    """Send the subscription's oldest undelivered event if it is due: True delivered, False failed,
    None nothing to do (nothing due, a dead delivery blocks the queue, or another worker has it)."""
    head = (
        Delivery.objects.filter(subscription_id=subscription_id, status__in=(Delivery.PENDING, Delivery.DEAD))
        .select_related("subscription")
        .order_by("event__seq")
        .first()
    )
    if head is None or head.status != Delivery.PENDING:
        return None
    if head.subscription.mode != Subscription.PUSH or not head.subscription.active:
        return None
    claimed = outbox_claim(
        DELIVERIES, Delivery.objects.filter(pk=head.pk).select_related("event__event_type", "subscription"), limit=1
    )
    if not claimed:
        return None
    ok, error = _send(claimed[0])
    if ok:
        outbox_done(DELIVERIES, claimed[0])
        return True
    outbox_fail(DELIVERIES, claimed[0], error)
    return False


def _run(*, limit: int) -> tuple[int, int]:
    due = list(
        Delivery.objects.filter(
            DELIVERIES.due(timezone.now()),
            subscription__mode=Subscription.PUSH,
            subscription__active=True,
        )
        .order_by("subscription_id")
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    attempted = delivered = 0
    # Round robin: one subscriber's backlog does not starve the others; a failure stops that
    # subscription for this run, so its later events never overtake the failed one.
    while due and attempted < limit:
        still: list[int] = []
        for subscription_id in due:
            if attempted >= limit:
                break
            outcome = _deliver_head(subscription_id)
            if outcome is None:
                continue
            attempted += 1
            if outcome:
                delivered += 1
                still.append(subscription_id)
        due = still
    return attempted, delivered


def deliveries_run(*, limit: int = RUN_LIMIT) -> int:
    """Attempt up to ``limit`` due push deliveries, each subscription in sequence order; how many
    were delivered."""
    return _run(limit=limit)[1]


def deliveries_loop(*, interval: float, stop_after: float | None = None) -> int:
    """Run :func:`deliveries_run` until ``stop_after`` seconds have passed (for ever without it),
    resting ``interval`` seconds whenever nothing more is due; how many were delivered."""
    return batches_loop(
        lambda limit: _run(limit=limit),
        batch=RUN_LIMIT,
        interval=interval,
        stop_after=stop_after,
        logger=logger,
        what="delivery",
    )


def delivery_retry(*, delivery_id: int) -> Delivery:
    """Requeue a dead delivery for a fresh series of attempts; it unblocks the events behind it."""
    return outbox_requeue(DELIVERIES, row_id=delivery_id)


def deliveries_summary() -> list[dict[str, object]]:
    """Per subscription: how many deliveries are pending, dead and delivered, for operators."""
    from django.db.models import Count, Q

    rows = (
        Subscription.objects.select_related("event_type")
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=Delivery.PENDING)),
            dead=Count("deliveries", filter=Q(deliveries__status=Delivery.DEAD)),
            delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.DELIVERED)),
        )
        .order_by("event_type__code", "subscriber")
    )
    return [
        {
            "event_type": s.event_type.code,
            "subscriber": s.subscriber,
            "mode": s.mode,
            "endpoint": s.endpoint,
            "active": s.active,
            "pending": s.pending,
            "dead": s.dead,
            "delivered": s.delivered,
        }
        for s in rows
    ]


# --- pull ----------------------------------------------------------------------------------------


def _pull_subscription(*, subscriber: str, event_type: str) -> Subscription:
    etype = EventType.objects.filter(code=event_type).first()
    if etype is None:
        raise NotFound("unknown_event_type", f"No event type {event_type}", field="event_type")
    sub = (
        Subscription.objects.select_related("event_type")
        .filter(event_type=etype, subscriber=subscriber, mode=Subscription.PULL, active=True)
        .first()
    )
    if sub is None:
        raise Forbidden("not_subscribed", f"{subscriber} has no pull subscription to {event_type}")
    return sub


def _acked(sub: Subscription) -> int:
    last = (
        Delivery.objects.filter(subscription=sub, status=Delivery.DELIVERED)
        .order_by("-event__seq")
        .values_list("event__seq", flat=True)
        .first()
    )
    return int(last or 0)


def events_pull(*, subscriber: str, event_type: str, after: int | None = None, limit: int = 100) -> EventsPage:
    """Events of a type after ``after`` (by default after the subscriber's acknowledged position),
    oldest first. A subscriber sees only events published while it was subscribed."""
    sub = _pull_subscription(subscriber=subscriber, event_type=event_type)
    acked = _acked(sub)
    start = acked if after is None else after
    rows = (
        Delivery.objects.filter(subscription=sub, event__seq__gt=start)
        .select_related("event")
        .order_by("event__seq")[: max(1, min(limit, PULL_LIMIT_MAX))]
    )
    events = [event_body(d.event, event_type) for d in rows]
    return {
        "event_type": event_type,
        "events": events,
        "acked": acked,
        "next_after": events[-1]["seq"] if events else start,
    }


@transaction.atomic
def events_ack(*, subscriber: str, event_type: str, seq: int) -> int:
    """Acknowledge every event up to ``seq``; the subscriber's acknowledged position."""
    sub = _pull_subscription(subscriber=subscriber, event_type=event_type)
    if seq < 0 or seq > sub.event_type.last_seq:
        raise DomainError("invalid_seq", f"seq must be between 0 and {sub.event_type.last_seq}", field="seq")
    Delivery.objects.filter(subscription=sub, status=Delivery.PENDING, event__seq__lte=seq).update(
        status=Delivery.DELIVERED, delivered_at=timezone.now()
    )
    return _acked(sub)


def _payload_subjects(payload: object) -> list[str]:
    if not isinstance(payload, dict):
        return []
    found = [payload.get("uin"), *(payload.get("uins") or [])]
    return [str(u) for u in found if u]


# --- the services on the exchange ---------------------------------------------------------------


# Sequence numbers are 64-bit signed database integers; a larger number names no event and is bad input.
SEQ_MAX: Final = 2**63 - 1


def _int_param(req: ServiceRequest, name: str) -> int | None:
    text = (req.query.get(name) or [""])[0]
    if not text:
        return None
    try:
        value = int(text)
    except ValueError as exc:
        raise DomainError("invalid_input", f"{name} must be a whole number", field=name) from exc
    if not 0 <= value <= SEQ_MAX:
        raise DomainError("invalid_input", f"{name} must be a whole number from 0 to {SEQ_MAX}", field=name)
    return value


def events_service(req: ServiceRequest) -> ServiceResponse:
    """``local:exchange.pubsub``: GET /{event_type}?after=&limit= and POST /{event_type}/ack."""
    parts = [p for p in req.path.split("/") if p]
    try:
        if req.method == "GET" and len(parts) == 1:
            result = events_pull(
                subscriber=req.client,
                event_type=parts[0],
                after=_int_param(req, "after"),
                limit=_int_param(req, "limit") or 100,
            )
            subjects = [u for e in result["events"] for u in _payload_subjects(e["payload"])]
            return ServiceResponse(status=200, body=orjson.dumps(result), subjects=list(dict.fromkeys(subjects)))
        if req.method == "POST" and len(parts) == 2 and parts[1] == "ack":
            try:
                seq = orjson.loads(req.body or b"{}")["seq"]
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise DomainError("invalid_input", 'Send {"seq": <number>}', field="seq") from exc
            if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= SEQ_MAX:
                raise DomainError("invalid_input", f"seq must be a whole number from 0 to {SEQ_MAX}", field="seq")
            acked = events_ack(subscriber=req.client, event_type=parts[0], seq=seq)
            return ServiceResponse(status=200, body=orjson.dumps({"event_type": parts[0], "acked": acked}))
        raise DomainError("not_found", "No such endpoint: GET /{event_type} or POST /{event_type}/ack", status=404)
    except DomainError as error:
        return problem_response(error)


def event_delivery_read(req: ServiceRequest) -> dict[str, object]:
    """The event a push delivery carries, accepted only from the subsystem that the directory's
    signed configuration names as the publisher of its type. A right to POST to a receiver lets a
    publisher deliver its own events there, not anyone else's: a death is told by the civil
    registry alone."""
    try:
        event = orjson.loads(req.body)
        if not isinstance(event, dict):
            raise TypeError
        event_type, seq = event["event_type"], event["seq"]
        if not isinstance(event_type, str) or not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError
        if not 0 < seq <= SEQ_MAX:
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise DomainError("invalid_input", "Send an event: event_type, seq, payload") from exc
    publishers = node.CONFS.own(origin=SERVER_PROXY).payload.get("event_types") or {}
    publisher = publishers.get(event_type)
    if publisher is None:
        raise Forbidden("not_publisher", f"The directory has no event type {event_type}")
    if publisher != req.client:
        raise Forbidden("not_publisher", f"{req.client} does not publish {event_type}")
    return dict(event)


def inbox_service(req: ServiceRequest) -> ServiceResponse:
    """``local:msd.events``: the benefits system's receiver in the demo nation. It accepts its
    publishers' well-formed events; the exchange's provider-side log entry is the record of receipt."""
    try:
        if req.method != "POST" or req.path.strip("/"):
            raise DomainError("not_found", "No such endpoint: POST /", status=404)
        event = event_delivery_read(req)
        received = {"event_type": event["event_type"], "seq": event["seq"]}
        return ServiceResponse(status=200, body=orjson.dumps({"received": received}))
    except DomainError as error:
        return problem_response(error)


LOCAL_HANDLERS["exchange.pubsub"] = events_service
LOCAL_HANDLERS["msd.events"] = inbox_service


def _event_schema() -> dict[str, JsonValue]:
    return {
        "type": "object",
        "required": ["event_type", "seq", "idempotency_key", "published_at", "payload"],
        "properties": {
            "event_type": {"type": "string"},
            "seq": {"type": "integer"},
            "idempotency_key": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "payload": {"type": "object"},
        },
    }


def _problem_response(description: str) -> dict[str, JsonValue]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"type": "object"}}}}


def events_openapi() -> dict[str, JsonValue]:
    event_type: JsonValue = {"name": "event_type", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Exchange: events (pull)", "version": "1.0.0"},
        "paths": {
            "/{event_type}": {
                "get": {
                    "summary": "Events after a sequence number, oldest first (default: after the acknowledged one)",
                    "parameters": [
                        event_type,
                        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": PULL_LIMIT_MAX, "default": 100},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Events",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "event_type": {"type": "string"},
                                            "events": {"type": "array", "items": _event_schema()},
                                            "acked": {"type": "integer"},
                                            "next_after": {"type": "integer"},
                                        },
                                    }
                                }
                            },
                        },
                        "403": _problem_response("The client has no pull subscription to this event type"),
                        "404": _problem_response("No such event type"),
                    },
                }
            },
            "/{event_type}/ack": {
                "post": {
                    "summary": "Acknowledge every event up to seq",
                    "parameters": [event_type],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["seq"],
                                    "properties": {"seq": {"type": "integer", "minimum": 0}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "The acknowledged position"},
                        "403": _problem_response("The client has no pull subscription to this event type"),
                        "404": _problem_response("No such event type"),
                        "422": _problem_response("seq is beyond the last event"),
                    },
                }
            },
        },
    }


def inbox_openapi() -> dict[str, JsonValue]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Benefits: event receiver", "version": "1.0.0"},
        "paths": {
            "/": {
                "post": {
                    "summary": "Receive one event (delivered at least once; deduplicate by event_type and seq)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _event_schema()}}},
                    "responses": {"200": {"description": "Received"}, "400": _problem_response("Not an event")},
                }
            }
        },
    }


def _payload_schema(uin_key: str) -> dict[str, JsonValue]:
    uins: JsonValue = {"type": "array", "items": {"type": "string"}} if uin_key == "uins" else {"type": "string"}
    return {
        "type": "object",
        "required": ["number", uin_key, "date"],
        "properties": {"number": {"type": "string"}, uin_key: uins, "date": {"type": "string", "format": "date"}},
    }


def _land_schema() -> dict[str, JsonValue]:
    return {
        "type": "object",
        "required": ["number", "kind", "parcels", "date"],
        "properties": {
            "number": {"type": "string"},
            "kind": {"type": "string"},
            "parcels": {"type": "array", "items": {"type": "string"}},
            "date": {"type": "string", "format": "date"},
            "reason": {"type": "string"},
            "death_registration": {"type": "string"},
            "declaration": {"type": "integer"},
        },
    }


def _concern_schema() -> dict[str, JsonValue]:
    return {
        "type": "object",
        "required": ["service_request_id", "service_code", "agency", "status", "updated_datetime"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_code": {"type": "string"},
            "agency": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": {"type": "string"},
            "change": {"type": "string", "enum": ["reported", "status", "update", "reassigned", "merged"]},
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": "string", "format": "date-time"},
            "expected_datetime": {"type": "string", "format": "date-time"},
            "lat": {"type": ["number", "null"]},
            "long": {"type": ["number", "null"]},
            "parish": {"type": "string"},
            "merged_into": {"type": "string"},
        },
    }


def _application_schema() -> dict[str, JsonValue]:
    return {
        "type": "object",
        "required": ["service", "agency", "date"],
        "properties": {
            "service": {"type": "string"},
            "agency": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "decision": {"type": "string", "enum": ["approved", "refused"]},
            "automatic": {"type": "boolean"},
            "hours": {"type": "number"},
            "target_hours": {"type": ["number", "null"]},
            "within_target": {"type": "boolean"},
        },
    }


@transaction.atomic
def pubsub_bootstrap() -> None:
    """The demo nation's events: the civil registry's event types, the exchange's pull service, the
    benefits system's receiver, and who subscribes how. Safe to run again."""
    registry = _gov("CRO/civil-registry")
    for code, description, uin_key in REGISTRY_EVENT_TYPES:
        event_type_add(code=code, publisher=registry, description=description, schema=_payload_schema(uin_key))
    events = _gov("EXCHANGE/pubsub/events")
    service_add(ident=events, base_url="local:exchange.pubsub", openapi=events_openapi(), title="Events (pull)")
    inbox = _gov("MSD/benefits/events")
    service_add(ident=inbox, base_url="local:msd.events", openapi=inbox_openapi(), title="Event receiver")
    # The publisher delivers into the subscriber's service, so it needs a right there.
    right_grant(service=inbox, subject=registry, method="POST", path="/", by="gov21 setup")
    benefits, statistics = _gov("MSD/benefits"), _gov("STATS/statistics")
    for code in ("birth.registered", "death.registered"):
        if not Subscription.objects.filter(event_type__code=code, subscriber=benefits).exists():
            subscription_add(event_type=code, subscriber=benefits, mode=Subscription.PUSH, endpoint=inbox)
    # The service engine offers services after births, closes a deceased person's licences and
    # benefits, and tells agencies of a new address.
    engine, engine_inbox = _gov("PORTAL/services"), _gov("PORTAL/services/events")
    for code in ("birth.registered", "death.registered", "address.changed"):
        if not Subscription.objects.filter(event_type__code=code, subscriber=engine).exists():
            subscription_add(event_type=code, subscriber=engine, mode=Subscription.PUSH, endpoint=engine_inbox)
    # The land register opens an inheritance of a deceased owner's land.
    land, land_inbox = _gov("LRA/land-register"), _gov("LRA/land-register/events")
    if not Subscription.objects.filter(event_type__code="death.registered", subscriber=land).exists():
        subscription_add(event_type="death.registered", subscriber=land, mode=Subscription.PUSH, endpoint=land_inbox)
    # The land register's decisions on the transactions the service engine lodged (a sale).
    for code, description in LAND_EVENT_TYPES:
        event_type_add(code=code, publisher=land, description=description, schema=_land_schema())
        if not Subscription.objects.filter(event_type__code=code, subscriber=engine).exists():
            subscription_add(event_type=code, subscriber=engine, mode=Subscription.PUSH, endpoint=engine_inbox)
    # The statistics office pulls every registry event and recounts what it changed.
    for code, _description, _uin_key in REGISTRY_EVENT_TYPES:
        if not Subscription.objects.filter(event_type__code=code, subscriber=statistics).exists():
            subscription_add(event_type=code, subscriber=statistics, mode=Subscription.PULL)
    # The service engine tells of submitted and decided applications; the statistics office counts them.
    for code, description in APPLICATION_EVENT_TYPES:
        event_type_add(code=code, publisher=engine, description=description, schema=_application_schema())
        if not Subscription.objects.filter(event_type__code=code, subscriber=statistics).exists():
            subscription_add(event_type=code, subscriber=statistics, mode=Subscription.PULL)
    right_grant(service=events, subject=statistics, method="GET", path="/*", by="gov21 setup")
    right_grant(service=events, subject=statistics, method="POST", path="/*/ack", by="gov21 setup")
    # The agencies that receive reported problems pull the desk's events (their own and the others',
    # which are public); rights name these event types only.
    desk = _gov("PORTAL/concerns")
    for code, description in CONCERN_EVENT_TYPES:
        event_type_add(code=code, publisher=desk, description=description, schema=_concern_schema())
        for agency in CONCERN_AGENCIES:
            subscriber = _gov(agency)
            if not Subscription.objects.filter(event_type__code=code, subscriber=subscriber).exists():
                subscription_add(event_type=code, subscriber=subscriber, mode=Subscription.PULL)
            right_grant(service=events, subject=subscriber, method="GET", path=f"/{code}", by="gov21 setup")
            right_grant(service=events, subject=subscriber, method="POST", path=f"/{code}/ack", by="gov21 setup")


__all__ = [
    "MAX_ATTEMPTS",
    "deliveries_loop",
    "deliveries_run",
    "deliveries_summary",
    "delivery_retry",
    "event_delivery_read",
    "event_publish",
    "event_type_add",
    "events_ack",
    "events_pull",
    "pubsub_bootstrap",
    "subscription_add",
]

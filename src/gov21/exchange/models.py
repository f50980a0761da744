"""The exchange's tables.

Directory (governance authority of an instance): members, subsystems, services, groups, access
rights, nodes and their certificates, trusted partner instances and the signed configuration
published from all of them. Node: the service address mapping it owns, its message log with
hash chain and signed tree heads, the data-use records of its providers. Publish/subscribe:
event types, events, subscriptions and deliveries.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from gov21.core.chain import ChainHeadBase, TreeHeadBase
from gov21.core.outbox import OutboxRow


class Member(models.Model):
    instance = models.CharField(max_length=64)
    member_class = models.CharField(max_length=16)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "member_class", "code"], name="exchange_member_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.code}"


class Subsystem(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subsystems")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    node = models.CharField(max_length=64, blank=True, help_text="Code of the node that hosts it.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="exchange_subsystem_uniq")]

    def __str__(self) -> str:
        return f"{self.member}/{self.code}"


class Service(models.Model):
    subsystem = models.ForeignKey(Subsystem, on_delete=models.PROTECT, related_name="services")
    code = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    openapi = models.JSONField(default=dict, blank=True)
    # Where the hosting node sends requests: http(s)://... or local:<name> for a handler in this
    # process. Published configuration never contains it.
    base_url = models.CharField(max_length=500, blank=True)
    timeout_s = models.PositiveIntegerField(default=30)
    disabled = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subsystem", "code"], name="exchange_service_uniq")]

    def __str__(self) -> str:
        return f"{self.subsystem}/{self.code}"


class Group(models.Model):
    instance = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    members = models.JSONField(default=list, blank=True, help_text="Client identifiers in the group.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "code"], name="exchange_group_uniq")]

    def __str__(self) -> str:
        return f"group:{self.instance}/{self.code}"


class AccessRight(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="rights")
    # A client identifier (``XA/GOV/MSD/benefits``, possibly of a partner instance) or
    # ``group:XA/code``.
    subject = models.CharField(max_length=300)
    method = models.CharField(max_length=10, default="*")
    path = models.CharField(max_length=300, default="/**")
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "subject", "method", "path"], name="exchange_right_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.service} {self.method} {self.path}"


class Node(models.Model):
    """A gateway ("security server") of the instance, and the certificates the CA issued it."""

    PENDING, APPROVED, REVOKED = "pending", "approved", "revoked"

    instance = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="nodes")
    address = models.CharField(max_length=300, blank=True, help_text="https://host:port of its node interface.")
    status = models.CharField(max_length=10, default=PENDING)
    auth_key_pem = models.TextField(blank=True)
    auth_cert_pem = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "code"], name="exchange_node_uniq")]

    def __str__(self) -> str:
        return f"{self.instance}/{self.code}"


class NodeInvitation(models.Model):
    """The directory operator's invitation of one expected node: its code, the member that will run
    it, and the hash of a one-time secret the node presents with its join request."""

    instance = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    owner = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="node_invitations")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation of {self.instance}/{self.code} for {self.owner}"


class SigningCert(models.Model):
    """A member's message-signing certificate, held by one node."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="signing_certs")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="signing_certs")
    public_key_pem = models.TextField()
    cert_pem = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=10, default=Node.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.member} @ {self.node} ({self.status})"


class TrustedInstance(models.Model):
    """A partner instance whose configuration anchor this instance's directory accepts."""

    instance = models.CharField(max_length=64, unique=True)
    anchor = models.JSONField()
    added_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.instance


class PublishedConf(models.Model):
    """Each configuration the directory signed; nodes of this deployment read the newest."""

    instance = models.CharField(max_length=64)
    serial = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    token = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "serial"], name="exchange_conf_uniq")]

    def __str__(self) -> str:
        return f"{self.instance} configuration {self.serial}"


class LocalService(models.Model):
    """On a node that is not the directory's deployment: where its own services live."""

    service_id = models.CharField(max_length=400, unique=True)
    base_url = models.CharField(max_length=500)
    timeout_s = models.PositiveIntegerField(default=30)
    openapi = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.service_id} → {self.base_url}"


class LocalClient(models.Model):
    """How one of this node's information systems must connect to the client interface: HTTPS with
    one of its registered certificates, or plain HTTP from loopback or an allowed network."""

    HTTP, HTTPS = "http", "https"

    client_id = models.CharField(max_length=300, unique=True)
    connection = models.CharField(max_length=5, default=HTTPS)
    certificates = models.JSONField(default=list, blank=True, help_text="PEM certificates it may present.")

    def __str__(self) -> str:
        return f"{self.client_id} ({self.connection})"


class ChainHead(ChainHeadBase):
    """The last sequence number and hash of one of this node's chains (its log, its data-use log)."""


class LogEntry(models.Model):
    """One message exchange as one node saw it: metadata, hashes, both signatures, its place in
    the chain. The body itself only when body logging is on, and then encrypted."""

    chain = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    role = models.CharField(max_length=10)  # consumer | provider
    message_id = models.CharField(max_length=100)
    request_id = models.CharField(max_length=64)
    client = models.CharField(max_length=300)
    service = models.CharField(max_length=400)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    status = models.PositiveIntegerField()
    error = models.CharField(max_length=100, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=300, blank=True)
    represented_party = models.CharField(max_length=300, blank=True)
    request_hash = models.CharField(max_length=100, blank=True)
    response_hash = models.CharField(max_length=100, blank=True)
    request_sig = models.TextField(blank=True)
    response_sig = models.TextField(blank=True)
    subjects = models.CharField(max_length=2000, blank=True)
    duration_ms = models.FloatField(default=0)
    body = models.BinaryField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="exchange_log_uniq")]
        indexes = [
            models.Index(fields=["message_id"], name="exchange_log_msg_idx"),
            models.Index(fields=["request_id"], name="exchange_log_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.client} → {self.service}"


class ReceivedRequest(models.Model):
    """A request id a provider's node has accepted once. The unique constraint is the replay check:
    of two copies of one signed request, however close together, only one row can be inserted.
    Rows older than the accepted clock skew serve no purpose (such a request is refused as too
    old) and are pruned."""

    chain = models.CharField(max_length=100)  # the node's message log, as in LogEntry
    request_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "request_id"], name="exchange_received_uniq")]
        indexes = [models.Index(fields=["received_at"], name="exchange_received_at_idx")]

    def __str__(self) -> str:
        return f"{self.chain} received {self.request_id}"


class TreeHead(TreeHeadBase):
    """A signed Merkle tree head over entries ``first_seq..last_seq`` of one of this node's chains."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "last_seq"], name="exchange_head_uniq")]


class DataUse(models.Model):
    """A person's data returned by a provider service: who asked, for what, through which message.
    Chained like the message log (chain ``uses:<node>``)."""

    chain = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    subject = models.CharField(max_length=40)
    client = models.CharField(max_length=300)
    service = models.CharField(max_length=400)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    user_id = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=100)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="exchange_use_uniq")]
        indexes = [models.Index(fields=["subject", "at"], name="exchange_use_subject_idx")]

    def __str__(self) -> str:
        return f"{self.subject} used by {self.client} ({self.at:%Y-%m-%d})"


class EventType(models.Model):
    code = models.CharField(max_length=100, unique=True)
    publisher = models.CharField(max_length=300, help_text="Client identifier of the publishing subsystem.")
    description = models.CharField(max_length=300, blank=True)
    schema = models.JSONField(default=dict, blank=True)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.code


class Subscription(models.Model):
    PUSH, PULL = "push", "pull"

    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="subscriptions")
    subscriber = models.CharField(max_length=300, help_text="Client identifier of the subscribing subsystem.")
    mode = models.CharField(max_length=4, default=PUSH)
    # push: the subscriber's service (X-Road service identifier) the event is delivered to.
    endpoint = models.CharField(max_length=400, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_type", "subscriber"], name="exchange_subscription_uniq")]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_type} ({self.mode})"


class Event(models.Model):
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="events")
    seq = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200)
    payload = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_type", "seq"], name="exchange_event_seq_uniq"),
            models.UniqueConstraint(fields=["event_type", "idempotency_key"], name="exchange_event_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type_id}#{self.seq}"


class Delivery(OutboxRow):
    """One event on its way to one subscription: an outbox row (``core.outbox``). A push delivery
    is sent by the worker; a pull subscriber's are marked delivered when it acknowledges them."""

    PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, default=PENDING)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta(OutboxRow.Meta):
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="exchange_delivery_uniq")]

    def __str__(self) -> str:
        return f"delivery {self.event_id} → {self.subscription_id} ({self.status})"

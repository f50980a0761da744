"""This gateway node: who it is, its keys, and the configurations it trusts.

A node knows its instance's directory either because it shares the directory's database (the
embedded default, and scaled-out nodes of the same deployment) or because it joined over HTTP
(``gov21 exchange node join``), in which case ``DATA_DIR/exchange/node.json`` names the directory
and holds the instance's anchor. Configurations are verified against the anchor's key, cached in
memory and on disk, refreshed every few seconds, and refused once expired.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx2 as httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import connection

from gov21.core import config
from gov21.core.crypto import verify_compact_key
from gov21.exchange import pki
from gov21.exchange.errors import XRoadError, signature_errors
from gov21.exchange.ids import ClientId, ServiceId

CONF_TYP: Final = "gov21-exchange-conf+jwt"
# The configuration of a large instance (thousands of certificates) stays well below this.
CONF_MAX_CHARS: Final = 64 * 1024 * 1024
REMOTE_REFRESH_S: Final = 30


def exchange_dir() -> Path:
    return Path(settings.DATA_DIR) / "exchange"


@dataclass(frozen=True)
class ThisNode:
    instance: str
    code: str
    directory: str  # "" when the directory lives in this deployment's database
    anchor: dict[str, Any] | None

    @property
    def ident(self) -> str:
        return f"{self.instance}/{self.code}"

    @property
    def log_chain(self) -> str:
        return f"log:{self.code}"

    @property
    def uses_chain(self) -> str:
        return f"uses:{self.code}"


_node_cache: dict[str, ThisNode] = {}


def this_node() -> ThisNode:
    key = str(settings.DATA_DIR)
    cached = _node_cache.get(key)
    if cached is not None:
        return cached
    path = exchange_dir() / "node.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        node = ThisNode(data["instance"], data["code"], data["directory"], data.get("anchor"))
    else:
        node = ThisNode(config.INSTANCE.read(), config.EXCHANGE_NODE.read(), "", None)
    _node_cache[key] = node
    return node


def node_file_write(*, instance: str, code: str, directory: str, anchor: dict[str, Any]) -> None:
    exchange_dir().mkdir(parents=True, exist_ok=True)
    body = {"instance": instance, "code": code, "directory": directory, "anchor": anchor}
    (exchange_dir() / "node.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    _node_cache.clear()


def auth_key(node: ThisNode | None = None) -> Ed25519PrivateKey:
    node = node or this_node()
    return pki.private_key(pki.key_file("node", f"{node.code}-auth"))


def signing_key(member: ClientId, node: ThisNode | None = None) -> Ed25519PrivateKey:
    node = node or this_node()
    return pki.private_key(pki.key_file("node", f"{node.code}-sign-{str(member.member).replace('/', '_')}"))


def sign_bytes(data: bytes) -> bytes:
    """The node's own signature (tree heads of its logs)."""
    return auth_key().sign(data)


def verify_own(data: bytes, signature: bytes) -> bool:
    try:
        auth_key().public_key().verify(signature, data)
    except Exception:
        return False
    return True


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- configuration ------------------------------------------------------------------------------


@dataclass
class Conf:
    """A verified configuration of one instance, with the lookups the gateway makes per message."""

    payload: dict[str, Any]
    instance: str = field(init=False)
    serial: int = field(init=False)
    expires_at: int = field(init=False)

    def __post_init__(self) -> None:
        self.instance = str(self.payload["instance"])
        self.serial = int(self.payload["serial"])
        self.expires_at = int(self.payload["expires_at"])
        self._ca_checked: dict[str, bool] = {}
        self._auth_index: dict[str, str] | None = None

    @property
    def fresh(self) -> bool:
        return time.time() < self.expires_at

    def has_client(self, client: ClientId) -> bool:
        if client.subsystem is None:
            return str(client) in self.payload["members"]
        return str(client) in self.payload["subsystems"]

    def subsystem(self, client: ClientId) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.payload["subsystems"].get(str(client))
        return found

    def service(self, service: ServiceId) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.payload["services"].get(str(service))
        return found

    def node(self, code: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.payload["nodes"].get(code)
        return found

    def signing_cert(self, fingerprint: str) -> dict[str, Any] | None:
        """An approved, unrevoked signing certificate issued by this instance's CA."""
        if fingerprint in self.payload["revoked"]:
            return None
        cert: dict[str, Any] | None = self.payload["certs"].get(fingerprint)
        if cert is None:
            return None
        ok = self._ca_checked.get(fingerprint)
        if ok is None:
            ok = pki.issued_by(cert["pem"], self.payload["ca"]) and pki.fingerprint(cert["pem"]) == fingerprint
            self._ca_checked[fingerprint] = ok
        return cert if ok else None

    def node_by_auth_cert(self, der: bytes) -> str | None:
        """The code of the approved node whose authentication certificate this is."""
        import hashlib

        wanted = hashlib.sha256(der).hexdigest()
        index = self._auth_index
        if index is None:
            index = {
                pki.fingerprint(n["auth_cert"]): code for code, n in self.payload["nodes"].items() if n.get("auth_cert")
            }
            self._auth_index = index
        return index.get(wanted)

    def cert_for(self, member: ClientId, node_code: str) -> tuple[str, dict[str, Any]] | None:
        for fp, cert in self.payload["certs"].items():
            if cert["member"] == str(member.member) and cert["node"] == node_code and fp not in self.payload["revoked"]:
                return fp, cert
        return None

    def allowed(self, client: ClientId, service: ServiceId, method: str, path: str) -> bool:
        from gov21.exchange.directory import right_matches

        subjects = {str(client), str(client.member)}
        for group, members in self.payload["groups"].items():
            if str(client) in members:
                subjects.add(group)
        for subject, m, p in self.payload["rights"].get(str(service), ()):
            if subject in subjects and right_matches(m, p, method, path):
                return True
        return False

    def allowed_endpoints(self, client: ClientId, service: ServiceId) -> list[dict[str, str]]:
        endpoints = (self.service(service) or {}).get("endpoints", [])
        return [e for e in endpoints if self.allowed(client, service, e["method"], e["path"].replace("*", "x"))]


class ConfStore:
    """Per-process cache of the verified configurations this node uses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._confs: dict[str, Conf] = {}
        self._checked: dict[str, float] = {}
        self._local_serial: dict[str, int] = {}
        # Set by the asynchronous gateway: a message reads the configuration in memory and never
        # waits for the database or a directory; a thread of its own refreshes it (refresh()).
        self.held = False
        self._refreshing = threading.local()

    def _use_cached(self, instance: str, limit: float) -> Conf | None:
        conf = self._confs.get(instance)
        if conf is None:
            return None
        if self.held and not getattr(self._refreshing, "on", False):
            return conf
        return conf if time.monotonic() - self._checked.get(instance, 0) < limit else None

    def refresh(self) -> None:
        """Look for newer configurations (own, and partners already in use) as a message would,
        whether or not the store is held; for the asynchronous gateway's refresher thread."""
        self._refreshing.on = True
        try:
            own = self._own()
            for instance in list(self._confs):
                anchor = own.payload["trusted"].get(instance)
                if instance != own.instance and anchor is not None:
                    self._partner(instance, anchor, own)
        finally:
            self._refreshing.on = False

    def clear(self) -> None:
        with self._lock:
            self._confs.clear()
            self._checked.clear()
            self._local_serial.clear()

    def get(self, instance: str, *, origin: str) -> Conf:
        """The fresh configuration of ``instance`` (this one or a trusted partner), or the X-Road
        error ``OutdatedGlobalConf``/``UnknownMember`` raised at ``origin``."""
        own = self._own()
        if instance == own.instance:
            conf = own
        else:
            anchor = own.payload["trusted"].get(instance)
            if anchor is None:
                raise XRoadError(f"{origin}.UnknownMember", f"Instance {instance} is not federated with {own.instance}")
            conf = self._partner(instance, anchor, own)
        if not conf.fresh:
            raise XRoadError(f"{origin}.OutdatedGlobalConf", f"The configuration of {instance} has expired")
        return conf

    def own(self, *, origin: str) -> Conf:
        return self.get(this_node().instance, origin=origin)

    def _own(self) -> Conf:
        node = this_node()
        now = time.monotonic()
        cached = self._use_cached(node.instance, config.EXCHANGE_CONF_REFRESH_S.read())
        if cached is not None:
            return cached
        conf = self._confs.get(node.instance)
        if not node.directory:
            conf = self._own_local(node, conf)
        else:
            if conf is None or now - self._checked.get(node.instance, 0) >= REMOTE_REFRESH_S or not conf.fresh:
                anchor = node.anchor or {}
                conf = self._fetch(node.instance, node.directory, anchor.get("conf_key", ""), conf)
        self._checked[node.instance] = now
        self._confs[node.instance] = conf
        return conf

    def _own_local(self, node: ThisNode, conf: Conf | None) -> Conf:
        from gov21.exchange import directory
        from gov21.exchange.models import PublishedConf

        table = PublishedConf._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(serial) FROM {table} WHERE instance = %s", [node.instance])  # noqa: S608
            row = cursor.fetchone()
        serial = row[0] if row else None
        if conf is not None and serial == conf.serial and conf.expires_at - time.time() > 60:
            return conf
        token = directory.conf_current()
        return _verified(token, directory.conf_public_key_pem(node.instance), node.instance)

    def _partner(self, instance: str, anchor: dict[str, Any], own: Conf) -> Conf:
        now = time.monotonic()
        cached = self._use_cached(instance, REMOTE_REFRESH_S)
        if cached is not None and (cached.fresh or (self.held and not getattr(self._refreshing, "on", False))):
            return cached
        conf = self._confs.get(instance)
        # A partner's directory knows our CA, not our nodes: this node shows its certificate.
        entry = own.node(this_node().code) or {}
        conf = self._fetch(instance, anchor["directory"], anchor["conf_key"], conf, cert_pem=entry.get("auth_cert", ""))
        self._checked[instance] = now
        self._confs[instance] = conf
        return conf

    def _fetch(
        self, instance: str, directory_url: str, conf_key: str, cached: Conf | None, *, cert_pem: str = ""
    ) -> Conf:
        from gov21.exchange import directory

        path = exchange_dir() / f"conf-{instance}.jwt"
        try:
            signed = directory.conf_request_token(
                key=auth_key(), node_ident=this_node().ident, instance=instance, cert_pem=cert_pem
            )
            response = httpx.get(
                f"{directory_url.rstrip('/')}/exchange/conf",
                headers={"Authorization": f"{directory.CONF_REQUEST_SCHEME} {signed}"},
                timeout=5.0,
            )
            response.raise_for_status()
            conf = _verified(response.text.strip(), conf_key, instance)
            if cached is None or conf.serial >= cached.serial:
                exchange_dir().mkdir(parents=True, exist_ok=True)
                path.write_text(response.text.strip(), encoding="ascii")
                return conf
            return cached
        except (httpx.HTTPError, XRoadError, ValueError):
            # The directory is unreachable (a hurricane cut the link) or sent something unverifiable:
            # keep using what we have until it expires, then refuse traffic.
            if cached is not None:
                return cached
            if path.exists():
                return _verified(path.read_text(encoding="ascii"), conf_key, instance)
            raise XRoadError("OutdatedGlobalConf", f"No configuration of {instance} could be fetched") from None


def _verified(token: str, conf_key_pem: str, instance: str) -> Conf:
    public = serialization.load_pem_public_key(conf_key_pem.encode("ascii"))
    if not isinstance(public, Ed25519PublicKey):
        raise XRoadError("MalformedGlobalConf", "The configuration key is not Ed25519")
    with signature_errors():
        payload = verify_compact_key(token, public, typ=CONF_TYP, max_length=CONF_MAX_CHARS)
    if payload.get("instance") != instance or payload.get("v") != 1:
        raise XRoadError("MalformedGlobalConf", f"Not a configuration of {instance}")
    return Conf(payload)


CONFS = ConfStore()

"""X-Road identifiers: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` for clients and
``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE`` for services.

Parts arrive percent-encoded (X-Road REST §4.2) and are strictly validated after decoding: a part is
1-64 characters from a conservative alphabet, so no part can smuggle a path separator, a dot
segment or a control character into a URL the gateway builds later (HPP and SSRF, §4.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote

from gov21.exchange.errors import XRoadError

_PART_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MEMBER_CLASSES: Final = ("GOV", "COM", "NGO")


def _part(raw: str, what: str, error: str) -> str:
    value = unquote(raw, errors="strict")
    if not _PART_RE.fullmatch(value) or value in {".", ".."}:
        raise XRoadError(error, f"Malformed {what} {raw[:80]!r} in identifier", status=400)
    return value


@dataclass(frozen=True, slots=True, order=True)
class ClientId:
    instance: str
    member_class: str
    member_code: str
    subsystem: str | None = None

    @classmethod
    def parse(cls, text: str, *, error: str = "Client.InvalidClientIdentifier") -> ClientId:
        parts = text.strip().split("/")
        if len(parts) not in (3, 4):
            raise XRoadError(error, f"Malformed client identifier {text[:120]!r}", status=400)
        instance, member_class, member_code = (
            _part(parts[0], "instance", error),
            _part(parts[1], "member class", error),
            _part(parts[2], "member code", error),
        )
        subsystem = _part(parts[3], "subsystem code", error) if len(parts) == 4 else None
        return cls(instance, member_class, member_code, subsystem)

    @property
    def member(self) -> ClientId:
        return ClientId(self.instance, self.member_class, self.member_code)

    @property
    def object_type(self) -> str:
        return "SUBSYSTEM" if self.subsystem else "MEMBER"

    def __str__(self) -> str:
        parts = [self.instance, self.member_class, self.member_code]
        if self.subsystem:
            parts.append(self.subsystem)
        return "/".join(parts)

    def encoded(self) -> str:
        return "/".join(quote(p, safe="") for p in str(self).split("/"))

    def as_json(self) -> dict[str, str]:
        body = {
            "member_class": self.member_class,
            "member_code": self.member_code,
            "object_type": self.object_type,
            "xroad_instance": self.instance,
        }
        if self.subsystem:
            body["subsystem_code"] = self.subsystem
        return body


@dataclass(frozen=True, slots=True, order=True)
class ServiceId:
    provider: ClientId
    code: str

    @classmethod
    def parse(cls, text: str, *, error: str = "Client.InvalidServiceIdentifier") -> ServiceId:
        parts = text.strip().split("/")
        if len(parts) not in (4, 5):
            raise XRoadError(error, f"Malformed service identifier {text[:120]!r}", status=400)
        return cls(ClientId.parse("/".join(parts[:-1]), error=error), _part(parts[-1], "service code", error))

    def __str__(self) -> str:
        return f"{self.provider}/{self.code}"

    def as_json(self) -> dict[str, str]:
        body = self.provider.as_json()
        body["object_type"] = "SERVICE"
        body["service_code"] = self.code
        return body


def split_service_path(rest: str) -> tuple[ServiceId, str]:
    """``XA/GOV/CRO/civil-registry/persons/123/history`` → (service id, ``/123/history``).

    Subsystem codes are optional in X-Road, so the split is ambiguous in general; gov21 requires a
    subsystem for every provider (every service belongs to an information system), which makes
    the first five parts the service identifier.
    """
    parts = rest.split("/")
    if len(parts) < 5 or not all(parts[:5]):
        raise XRoadError(
            "Client.BadRequest",
            "The request URL must be /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}[/path]",
            status=400,
        )
    service = ServiceId.parse("/".join(parts[:5]))
    tail = parts[5:]
    return service, ("/" + "/".join(tail)) if tail else ""

"""X-Road identifiers: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` for clients and
``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE`` for services.

Parts arrive percent-encoded (X-Road REST §4.2) and are strictly validated after decoding: a part is
1-64 characters from a conservative alphabet, so no part can smuggle a path separator, a dot
segment or a control character into a URL the gateway builds later (HPP and SSRF, §4.2).
"""

from __future__ import annotations

import re
import unicodedata
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


# In a decoded path: control characters, a backslash (a separator to some servers), a percent sign
# (what is left of a second round of encoding) and a semicolon (path parameters, with which some
# servers turn "..;" into a dot segment).
_AMBIGUOUS_RE: Final = re.compile(r"[\x00-\x1f\x7f\\%;]")


def _bad_path(reason: str) -> XRoadError:
    return XRoadError("Client.BadRequest", f"The service path {reason}", status=400)


def path_check(path: str) -> str:
    """``path`` (already decoded) if it can be read one way only; otherwise ``Client.BadRequest``.

    Access rights are matched on this path and the service receives this same path, so nothing
    a server might read differently from the matcher is let through: empty segments (``//``),
    dot segments, backslashes, control and invisible characters, semicolons and percent signs.
    A single trailing ``/`` is kept: it is matched as it is, so ``/*`` does not cover ``/x/``.
    """
    if not path:
        return path
    if not path.startswith("/"):
        raise _bad_path("must start with /")
    segments = path[1:].split("/")
    for index, segment in enumerate(segments):
        if not segment and index != len(segments) - 1:
            raise _bad_path("has an empty segment (//)")
        if segment in {".", ".."}:
            raise _bad_path("has a dot segment (. or ..)")
        if _AMBIGUOUS_RE.search(segment):
            raise _bad_path("has a control character, a backslash, a semicolon or a percent sign")
        if not segment.isascii() and any(unicodedata.category(ch).startswith("C") for ch in segment):
            raise _bad_path("has a control or invisible character")
    return path


def path_decode(raw: str) -> str:
    """The path after the service identifier, as received (percent-encoded), decoded once and
    checked by :func:`path_check`. An encoded ``/`` would decode into a separator the sender did
    not write, so it is refused rather than decoded."""
    segments = []
    for part in raw.split("/"):
        try:
            segment = unquote(part, errors="strict")
        except UnicodeDecodeError as exc:
            raise _bad_path("is not UTF-8 once decoded") from exc
        if "/" in segment:
            raise _bad_path("has an encoded / (%2F)")
        segments.append(segment)
    return path_check("/".join(segments))


def path_encode(path: str) -> str:
    """A checked path as it goes to an HTTP service: every character that is not plain in a path
    percent-encoded, so the service decodes exactly the path the rights were matched on."""
    return quote(path, safe="/:@!$&'()*+,=-._~")


def split_service_path(rest: str) -> tuple[ServiceId, str]:
    """``XA/GOV/CRO/civil-registry/persons/123/history`` → (service id, ``/123/history``), the path
    decoded once and checked (:func:`path_decode`).

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
    return service, path_decode("/" + "/".join(tail)) if tail else ""

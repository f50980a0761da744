"""The claims released to a relying party, read from the civil registry.

Each release is a use of personal data: the identity agency asks the civil registry through the
exchange, naming the relying party as the official (X-Road-UserId) and its registered purpose as
the issue, so the read is signed, logged at both ends and listed among the person's data uses.

A relying party may ask userinfo again with the same access token. What the registry answered for
that token is then kept for ``READ_KEPT_S`` seconds in the process and released again without a
second signed read; each such release is still recorded among the person's data uses, naming the
message that carried the read (``exchange.contracts.data_use_record``). A revoked or ended token, a
disabled account or relying party is refused before anything kept is looked at.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_noop

from gov21.exchange.contracts import agency_client, agency_service, data_use_record, exchange_json_message
from gov21.identity.oidc import subject_for

SCOPE_CLAIMS: dict[str, list[str]] = {
    "profile": ["name", "given_name", "family_name", "birthdate", "gender"],
    "address": ["address"],
    "email": ["email", "email_verified"],
    "phone": ["phone_number", "phone_number_verified"],
    "uin": ["uin"],
}
# Shown to the person on the consent page and their account page, in their language.
SCOPE_LABELS: dict[str, str] = {
    "openid": gettext_noop("That you signed in, and an identifier for you that only this sector can use"),
    "profile": gettext_noop("Your name, date of birth and sex"),
    "address": gettext_noop("Your registered address"),
    "email": gettext_noop("Your email address"),
    "phone": gettext_noop("Your phone number"),
    "uin": gettext_noop("Your national identification number (UIN)"),
}
_GENDER = {"F": "female", "M": "male"}


@dataclass(frozen=True, slots=True)
class Release:
    """Who the claims are about and who receives them: what userinfo's single lookup returns."""

    account_id: int
    uin: str | None
    user_id: int
    email: str
    phone: str
    client_id: str
    sector: str
    agency: str
    purpose: str
    sub: str | None = None


# Short: a change the registry records (a new name or address) reaches a relying party that keeps
# asking with one token within this time; the token itself lives ten minutes.
READ_KEPT_S = 60.0
READ_KEPT_MAX = 4096


@dataclass(frozen=True, slots=True)
class _Read:
    person: dict[str, Any]
    message_id: str
    at: float


_reads: OrderedDict[tuple[str, str], _Read] = OrderedDict()
_reads_lock = threading.Lock()


def _person(release: Release, uin: str, token_hash: str) -> dict[str, Any]:
    """The person's registry record for this release: read through the exchange, or, for a token
    whose read is still kept, the same record again with the release recorded as a data use."""
    client = agency_client("IDA", "identity")
    service = agency_service("CRO", "civil-registry", "persons")
    path = f"/{uin}"
    user_id = f"oidc:{release.client_id}"
    issue = f"{release.agency}: {release.purpose}"
    key = (token_hash, uin)
    now = time.monotonic()
    if token_hash:
        with _reads_lock:
            kept = _reads.get(key)
        if kept is not None and now - kept.at < READ_KEPT_S:
            data_use_record(
                client=client,
                service=service,
                path=path,
                subject=uin,
                user_id=user_id,
                issue=issue,
                message_id=kept.message_id,
            )
            return kept.person
    person, message_id = exchange_json_message(client=client, service=service, path=path, user_id=user_id, issue=issue)
    if token_hash:
        _keep(key, _Read(person, message_id, now))
    return dict(person)


def _keep(key: tuple[str, str], read: _Read) -> None:
    """Keep ``read`` for its token, and let go of every read older than ``READ_KEPT_S``: the oldest
    are first (each is moved to the end when kept), so a worker holds the reads of the last minute,
    not the last ``READ_KEPT_MAX`` whatever their age (measured: a worker's memory grew by the
    persons it had read long after they could be released again)."""
    with _reads_lock:
        _reads[key] = read
        _reads.move_to_end(key)
        while _reads and (len(_reads) > READ_KEPT_MAX or read.at - next(iter(_reads.values())).at >= READ_KEPT_S):
            _reads.popitem(last=False)


def claims_for(*, release: Release, scope: str, token_hash: str = "") -> dict[str, Any]:
    """The claims of ``scope`` for ``release``; ``token_hash`` (the access token's) lets a repeated
    request with the same token reuse the registry read it made (see above)."""
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": release.sub or subject_for(release.account_id, release.sector)}
    if scopes & {"profile", "address", "uin"} and release.uin:
        person = _person(release, release.uin, token_hash)
        if "profile" in scopes:
            claims.update(
                name=f"{person['given_names']} {person['family_name']}",
                given_name=person["given_names"],
                family_name=person["family_name"],
                birthdate=person["birth_date"],
                gender=_GENDER.get(person["sex"], "other"),
            )
        if "address" in scopes:
            locality = person.get("address_settlement") or ""
            street = person.get("address_line") or ""
            claims["address"] = {
                "formatted": ", ".join(p for p in (street, locality, person.get("address_parish") or "") if p),
                "street_address": street,
                "locality": locality,
                "region": person.get("address_parish") or "",
                "country": person.get("citizenship") or "",
            }
        if "uin" in scopes:
            claims["uin"] = release.uin
    elif "profile" in scopes:  # a public servant without a UIN: the name on the staff account
        user = get_user_model().objects.get(pk=release.user_id)
        claims["name"] = user.get_full_name() or user.get_username()
    if "email" in scopes and release.email:
        claims.update(email=release.email, email_verified=False)
    if "phone" in scopes and release.phone:
        claims.update(phone_number=release.phone, phone_number_verified=False)
    return claims

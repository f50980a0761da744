"""The claims released to a relying party, read live from the civil registry for each request.

Each release is a read of personal data: the identity agency asks the civil registry through the
exchange, naming the relying party as the official (X-Road-UserId) and its registered purpose as
the issue, so the read is signed, logged at both ends and listed among the person's data uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.identity.oidc import subject_for

SCOPE_CLAIMS: dict[str, list[str]] = {
    "profile": ["name", "given_name", "family_name", "birthdate", "gender"],
    "address": ["address"],
    "email": ["email", "email_verified"],
    "phone": ["phone_number", "phone_number_verified"],
    "uin": ["uin"],
}
SCOPE_LABELS: dict[str, str] = {
    "openid": "That you signed in, and an identifier for you that only this sector can use",
    "profile": "Your name, date of birth and sex",
    "address": "Your registered address",
    "email": "Your email address",
    "phone": "Your phone number",
    "uin": "Your national identification number (UIN)",
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


def claims_for(*, release: Release, scope: str) -> dict[str, Any]:
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": release.sub or subject_for(release.account_id, release.sector)}
    if scopes & {"profile", "address", "uin"} and release.uin:
        person = exchange_json(
            client=agency_client("IDA", "identity"),
            service=agency_service("CRO", "civil-registry", "persons"),
            path=f"/{release.uin}",
            user_id=f"oidc:{release.client_id}",
            issue=f"{release.agency}: {release.purpose}",
        )
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

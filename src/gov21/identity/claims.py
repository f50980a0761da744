"""The claims released to a relying party, read live from the civil registry for each request.

Each release is a read of personal data: it goes through the registry's contract with the relying
party as the actor and its registered purpose, so it lands in the access log the citizen sees.
"""

from __future__ import annotations

from typing import Any

from gov21.identity.models import Account, RelyingParty
from gov21.identity.oidc import subject_for
from gov21.identity.principal import Principal

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


def claims_for(*, account: Account, client: RelyingParty, scope: str) -> dict[str, Any]:
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": subject_for(account, client.sector)}
    wanted = scopes & {"profile", "address", "uin"}
    if wanted and account.uin:
        from gov21.registry.contracts import person_view  # registry imports identity's contract: import late

        actor = Principal(name=f"oidc:{client.client_id}", kind="system", roles=frozenset({"reader"}))
        person = person_view(uin=account.uin, actor=actor, purpose=f"{client.agency}: {client.purpose}")
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
            claims["uin"] = account.uin
    elif "profile" in scopes:
        user = account.user
        claims["name"] = user.get_full_name() or user.get_username()
    if "email" in scopes and account.email:
        claims.update(email=account.email, email_verified=False)
    if "phone" in scopes and account.phone:
        claims.update(phone_number=account.phone, phone_number_verified=False)
    return claims

"""Parties as the registers that hold them know them: a person is read from the civil registry and a
business from the register of business names, through the exchange, as any agency reads them (signed,
logged, and shown to the person among the uses of their data)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError
from gov21.core.ids import uin_check
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.land.models import GroupMember, Party, PartyKind
from gov21.land.records import MemberView, OwnerShare, PartyRef, PartyView

MEMBER_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,19}")


def land_client() -> str:
    """The land register's information system on the exchange."""
    return agency_client("LRA", "land-register")


def _person_name(uin: str, *, purpose: str, alive: bool, field: str) -> str:
    person = exchange_json(
        client=land_client(), service=agency_service("CRO", "civil-registry", "persons"), path=f"/{uin}", issue=purpose
    )
    if alive and person.get("status") == "deceased":
        raise DomainError("party_deceased", _("The person with UIN %(uin)s is deceased.") % {"uin": uin}, field=field)
    return f"{person.get('given_names', '')} {person.get('family_name', '')}".strip()


def _business_name(number: str, *, purpose: str, field: str) -> str:
    try:
        business = exchange_json(
            client=land_client(),
            service=agency_service("BRA", "business-register", "businesses"),
            path=f"/{number}",
            issue=purpose,
        )
    except DomainError as error:
        if error.status == 404:
            raise DomainError(
                "party_not_found",
                _("No business is registered with number %(number)s.") % {"number": number},
                field=field,
            ) from None
        raise
    return str(business.get("name", ""))


def party_confirm(ref: PartyRef, *, purpose: str, alive: bool = True, field: str = "party") -> Party:
    """The party ``ref`` names, recorded on first use with the name its register gives (a person
    read through the civil registry, a business through the register of business names)."""
    identifier = ref.identifier
    if ref.kind == "person":
        identifier = uin_check(identifier, field=field)
    elif ref.kind == "agency" and not MEMBER_CODE.fullmatch(identifier):
        raise DomainError(
            "invalid_party", _("An agency is named by its exchange member code, such as LRA."), field=field
        )
    known = Party.objects.filter(kind=ref.kind, identifier=identifier).first()
    if ref.kind == "person":
        try:
            name = _person_name(identifier, purpose=purpose, alive=alive, field=field)
        except DomainError as error:
            if error.status == 404:
                raise DomainError(
                    "party_not_found", _("No person with UIN %(uin)s is registered.") % {"uin": identifier}, field=field
                ) from None
            raise
    elif ref.kind == "business":
        name = _business_name(identifier, purpose=purpose, field=field)
    else:
        name = identifier
    if known is not None:
        return known
    party, _created = Party.objects.get_or_create(
        kind=ref.kind, identifier=identifier, defaults={"name": name[:300], "created_at": timezone.now()}
    )
    return party


def shares_check(owners: Sequence[OwnerShare], *, field: str) -> None:
    """Owners are distinct and their shares add up to exactly one."""
    seen = {(owner.party.kind, owner.party.identifier) for owner in owners}
    if len(seen) != len(owners):
        raise DomainError("owner_twice", _("A party is named twice among the owners."), field=field)
    total = sum((owner.fraction for owner in owners), Fraction(0))
    if total != 1:
        raise DomainError(
            "shares_do_not_add_up",
            _("The owners' shares add up to %(total)s; they must add up to exactly 1.") % {"total": str(total)},
            field=field,
        )


def holder_for(owners: Sequence[tuple[Party, Fraction]]) -> Party:
    """The party that holds a right for ``owners``: the one owner, or the group of joint owners with
    their shares (the same group for the same owners and shares)."""
    if len(owners) == 1:
        return owners[0][0]
    ordered = sorted(owners, key=lambda pair: (pair[0].kind, pair[0].identifier))
    key = ";".join(f"{p.kind}:{p.identifier}={s.numerator}/{s.denominator}" for p, s in ordered)
    group, created = Party.objects.get_or_create(
        kind=PartyKind.GROUP, identifier=key[:400], defaults={"name": "", "created_at": timezone.now()}
    )
    if created:
        GroupMember.objects.bulk_create(
            [
                GroupMember(group=group, member=p, share_numerator=s.numerator, share_denominator=s.denominator)
                for p, s in ordered
            ]
        )
    return group


def party_members(party: Party) -> list[Party]:
    """The parties a holder stands for: itself, or a group's members."""
    if party.kind != PartyKind.GROUP:
        return [party]
    return [m.member for m in party.members.select_related("member").order_by("id")]


def persons_of(party: Party) -> list[str]:
    """The UINs of the persons among a holder (for the access log)."""
    return [p.identifier for p in party_members(party) if p.kind == PartyKind.PERSON]


def party_view(party: Party) -> PartyView:
    members = []
    if party.kind == PartyKind.GROUP:
        members = [
            MemberView(kind=m.member.kind, identifier=m.member.identifier, name=m.member.name, share=f"{m.share}")
            for m in party.members.select_related("member").order_by("id")
        ]
    return PartyView(
        kind=party.kind,
        identifier=party.identifier if party.kind != PartyKind.GROUP else "",
        name=party.name,
        members=members,
    )


def party_matches(party: Party, ref: PartyRef) -> bool:
    return any(p.kind == ref.kind and p.identifier == ref.identifier for p in party_members(party))

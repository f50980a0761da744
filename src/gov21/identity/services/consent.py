"""Consent: what a person agreed that a relying party may receive."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import NotFound
from gov21.core.queries import raw_one
from gov21.identity.models import (
    Account,
    Consent,
    OAuthToken,
    RelyingParty,
)
from gov21.identity.services.accounts import auth_event_record


def consent_covers(*, account: Account, client: RelyingParty, scopes: list[str]) -> bool:
    # Asked on every authorization request: hand-written.
    consent = raw_one(Consent, "account_id = %s AND client_id = %s AND revoked_at IS NULL", [account.pk, client.pk])
    return consent is not None and set(scopes) <= set(consent.scopes)


@transaction.atomic
def consent_grant(*, account: Account, client: RelyingParty, scopes: list[str], source: str) -> Consent:
    """Record consent to release these scopes to this client (merged with what was agreed before)."""
    now = timezone.now()
    current = (
        Consent.objects.select_for_update().filter(account=account, client=client, revoked_at__isnull=True).first()
    )
    merged = sorted(set(scopes) | set(current.scopes if current else []))
    if current is not None:
        current.revoked_at = now
        current.save(update_fields=["revoked_at"])
    consent = Consent.objects.create(account=account, client=client, scopes=merged, granted_at=now)
    auth_event_record(kind="consent_granted", account=account, source=source, client=client.client_id, scopes=merged)
    return consent


@transaction.atomic
def consent_revoke(*, account: Account, consent_id: int, source: str) -> None:
    """Withdraw consent: the agency's tokens for this person stop working at once."""
    consent = (
        Consent.objects.select_for_update().filter(pk=consent_id, account=account, revoked_at__isnull=True).first()
    )
    if consent is None:
        raise NotFound("consent_not_found", _("No such consent on your account."))
    now = timezone.now()
    consent.revoked_at = now
    consent.save(update_fields=["revoked_at"])
    OAuthToken.objects.filter(account=account, client=consent.client, revoked_at__isnull=True).update(revoked_at=now)
    auth_event_record(kind="consent_revoked", account=account, source=source, client=consent.client.client_id)


def consent_revoke_by_user(*, user_id: int, consent_id: int, source: str) -> None:
    account = Account.objects.filter(user_id=user_id).first()
    if account is None:
        raise NotFound("consent_not_found", _("No such consent on your account."))
    consent_revoke(account=account, consent_id=consent_id, source=source)

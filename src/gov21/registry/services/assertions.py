"""Person assertions: who asked an agency's system to act, as the identity provider proves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from gov21.core.crypto import verify_compact
from gov21.core.errors import DomainError
from gov21.identity.contracts import ASSERTION_TYP, assertion_issuer, assertion_jwks
from gov21.registry.models import AssertionUse

ASSERTION_HEADER = "X-Gov21-Assertion"


# An assertion is meant to live a couple of minutes; one that claims a longer life was not made
# by the provider as configured, and a long-lived one would be as good as a password in a log.
ASSERTION_MAX_SECONDS = 300


ASSERTION_SKEW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class AssertedPerson:
    """Who the provider says asked: a citizen (``uin``) or a public servant (``staff``)."""

    subject: str
    kind: str
    uin: str
    acr: str

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def _assertion_refused(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status=403, title="Assertion refused", field=ASSERTION_HEADER)


@transaction.atomic
def assertion_accept(*, token: str, audience: str, purpose: str, client: str) -> AssertedPerson:
    """Check a person assertion strictly (signature against the provider's published keys, type,
    issuer, audience, purpose, the system acting, lifetime) and record its ``jti`` so that it is
    accepted once only."""
    try:
        claims = verify_compact(token, assertion_jwks(), typ=ASSERTION_TYP)
    except DomainError as error:
        if error.code == "credential_expired":
            raise _assertion_refused("assertion_expired", "The person's assertion has expired.") from None
        raise _assertion_refused(
            "assertion_invalid", f"The person's assertion is not one the identity provider signed: {error.detail}"
        ) from None
    now = timezone.now().timestamp()
    issued, expires, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    if claims.get("iss") != assertion_issuer():
        raise _assertion_refused("assertion_invalid", "The person's assertion comes from another issuer.")
    if not isinstance(issued, int) or not isinstance(expires, int) or not isinstance(jti, str) or not jti:
        raise _assertion_refused("assertion_invalid", "The person's assertion lacks iat, exp or jti.")
    if expires - issued > ASSERTION_MAX_SECONDS or issued > now + ASSERTION_SKEW_SECONDS:
        raise _assertion_refused("assertion_invalid", "The person's assertion claims an impossible lifetime.")
    if claims.get("aud") != audience:
        raise _assertion_refused("assertion_wrong_audience", f"The person's assertion is not meant for {audience}.")
    if claims.get("purpose") != purpose:
        raise _assertion_refused(
            "assertion_wrong_purpose", f"The person's assertion allows {claims.get('purpose')!r}, not {purpose!r}."
        )
    act = claims.get("act")
    if not isinstance(act, dict) or act.get("sub") != client:
        raise _assertion_refused(
            "assertion_wrong_client", "The person's assertion was issued to another system acting for them."
        )
    subject, kind = claims.get("sub"), claims.get("kind")
    if not isinstance(subject, str) or kind not in ("citizen", "staff"):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not say who the person is.")
    if kind == "citizen" and not (len(subject) == 10 and subject.isascii() and subject.isdigit()):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not name a valid UIN.")
    if kind == "staff" and not subject.startswith("staff:"):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not name a public servant.")
    if len(jti) > 64:
        raise _assertion_refused("assertion_invalid", "The person's assertion has an overlong jti.")
    moment = timezone.now()
    AssertionUse.objects.filter(expires_at__lt=moment - timedelta(seconds=ASSERTION_SKEW_SECONDS)).delete()
    _, created = AssertionUse.objects.get_or_create(
        jti=jti,
        defaults={
            "subject": subject[:160],
            "purpose": purpose[:40],
            "client": client[:150],
            "used_at": moment,
            "expires_at": moment + timedelta(seconds=max(0.0, expires - now)),
        },
    )
    if not created:
        raise _assertion_refused("assertion_reused", "The person's assertion has already been used.")
    return AssertedPerson(
        subject=subject, kind=str(kind), uin=subject if kind == "citizen" else "", acr=str(claims.get("acr", ""))
    )

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.crypto import hash_token
from gov21.core.principal import Principal, PrincipalKind
from gov21.identity import levels
from gov21.identity.claims import SCOPE_LABELS
from gov21.identity.models import Account, ApiToken, AuthEvent, Consent, Passkey, RelyingParty, StaffRole, Subject

# Every API call authenticates, so this lookup is hand-written: the ORM's query compilation costs
# more than the indexed lookup itself.
PORTAL_SESSION_KEY = "gov21_rp"  # set by the portal once the OpenID Connect sign-in completed

TOKEN_SQL = (
    f"SELECT name, role FROM {ApiToken._meta.db_table} "  # noqa: S608 - table name from the model
    "WHERE token_hash = %s AND revoked_at IS NULL AND expires_at > %s"
)


def principal_from_token(token: str) -> Principal | None:
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_SQL, [hash_token(token), connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return None
    return Principal(name=f"token:{row[0]}", kind=PrincipalKind.TOKEN, roles=frozenset({row[1]}))


def principal_from_request(request: HttpRequest) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return principal_from_token(value.strip())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Staff work only after a sign-in through the provider at level substantial or higher.
        portal = request.session.get(PORTAL_SESSION_KEY) or {}
        if levels.rank(str(portal.get("acr", ""))) < levels.rank(levels.SUBSTANTIAL):
            return None
        grants = list(StaffRole.objects.filter(user_id=user.pk).values_list("role", "agency"))
        roles = frozenset(role for role, _ in grants)
        if user.is_superuser:
            roles = roles | {"administrator"}
        agencies = frozenset(agency for _, agency in grants)
        return Principal(
            name=user.get_username(), kind=PrincipalKind.STAFF, roles=roles, agencies=agencies, grants=frozenset(grants)
        )
    return None


def session_access_token(request: HttpRequest) -> str:
    """The signed-in person's access token, kept by the portal in their server-side session; the
    identity provider exchanges it for a person assertion when they act. Empty if there is none."""
    portal = request.session.get(PORTAL_SESSION_KEY) or {}
    tokens = portal.get("tokens") if isinstance(portal, dict) else None
    return str(tokens.get("access_token") or "") if isinstance(tokens, dict) else ""


def user_for_subject(*, sector: str, sub: str) -> AbstractBaseUser | None:
    subject = Subject.objects.select_related("account__user").filter(sector=sector, sub=sub).first()
    if subject is None or subject.account.status != Account.Status.ACTIVE:
        return None
    return subject.account.user


def portal_person_uin(request: HttpRequest) -> str | None:
    """The UIN of the person this request's session signed in to the portal: None when no one signed
    in through the portal, "" when the account has none (a public servant)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or PORTAL_SESSION_KEY not in request.session:
        return None
    uin = Account.objects.filter(user_id=user.pk).values_list("uin", flat=True).first()
    return str(uin or "")


def account_summary(*, user_id: int) -> dict[str, Any] | None:
    """What the portal shows a signed-in person about their own account."""
    account = Account.objects.filter(user_id=user_id).first()
    if account is None:
        return None
    consents = (
        Consent.objects.filter(account=account, revoked_at__isnull=True)
        .select_related("client")
        .order_by("-granted_at")
    )
    return {
        "account_id": account.pk,
        "kind": account.kind,
        "uin": account.uin,
        "consents": [
            {
                "id": c.pk,
                "client": c.client.name,
                "agency": c.client.agency,
                "purpose": c.client.purpose,
                "scopes": list(c.scopes),
                "scope_labels": [SCOPE_LABELS.get(scope, scope) for scope in c.scopes],
                "granted_at": c.granted_at,
            }
            for c in consents
        ],
    }


def account_status(*, uin: str) -> str | None:
    return Account.objects.filter(uin=uin).values_list("status", flat=True).first()


@dataclass(frozen=True, slots=True)
class AccountNotice:
    """Something that happened to a person's account that they must hear of, on every channel."""

    id: int
    uin: str
    email: str
    phone: str
    kind: str
    subject: str
    body: str
    link: str


_IF_NOT_YOU = gettext_noop("If this was not you, sign in and cancel it, or call the helpline at once.")


def _notice_text(event: AuthEvent) -> tuple[str, str]:
    at = timezone.localtime(event.at).strftime("%d %B %Y %H:%M")
    officer = str(event.detail.get("officer", ""))
    # A name the platform gave an officer of its own (the demo counter) is in the catalogue.
    officer = _(officer) if officer else officer
    texts = {
        "recovery_requested": (
            _("Someone asked to recover your digital ID"),
            _(
                "On %(at)s an officer (%(officer)s) at a service counter asked to replace your password and every "
                "way you sign in. A second officer must approve it before a code is given out. %(if_not_you)s"
            ),
        ),
        "recovery_approved": (
            _("A recovery code for your digital ID was handed over"),
            _(
                "On %(at)s a second officer (%(officer)s) approved the recovery of your digital ID and a code was "
                "handed over at the counter. Whoever uses it replaces your password and every way you sign in. "
                "%(if_not_you)s"
            ),
        ),
        "recovery_cancelled": (
            _("The recovery of your digital ID was cancelled"),
            _("On %(at)s the recovery of your digital ID was cancelled. Its code no longer works."),
        ),
        "account_recovered": (
            _("Your digital ID was recovered"),
            _(
                "On %(at)s a new password was set with a recovery code from a service counter, and your earlier "
                "authenticator app, passkeys and recovery codes were removed. If this was not you, visit a service "
                "counter at once."
            ),
        ),
        "password_changed": (
            _("Your password was changed"),
            _("On %(at)s the password of your digital ID was changed. %(if_not_you)s"),
        ),
        "factor_removed": (
            _("A way to sign in was removed"),
            _("On %(at)s an authenticator app or passkey was removed from your digital ID. %(if_not_you)s"),
        ),
        "factor_added": (
            _("Your authenticator app was replaced"),
            _("On %(at)s a new authenticator app replaced the one on your digital ID. %(if_not_you)s"),
        ),
        "recovery_codes_issued": (
            _("New recovery codes were made"),
            _("On %(at)s new recovery codes replaced the earlier ones of your digital ID. %(if_not_you)s"),
        ),
    }
    subject, body = texts.get(
        event.kind, (_("Your digital ID changed"), _("On %(at)s your digital ID changed. %(if_not_you)s"))
    )
    return subject, body % {"at": at, "officer": officer, "if_not_you": _(_IF_NOT_YOU)}


def account_notices_pending(*, limit: int = 100) -> list[AccountNotice]:
    """Events people must be told of and have not been yet, oldest first."""
    events = (
        AuthEvent.objects.select_related("account")
        .filter(tell=True, told_at__isnull=True)
        .order_by("at", "id")[: max(1, limit)]
    )
    notices = []
    for event in events:
        account = event.account
        if account is None or not account.uin:
            continue
        subject, body = _notice_text(event)
        notices.append(
            AccountNotice(
                id=event.pk,
                uin=account.uin,
                email=account.email,
                phone=account.phone,
                kind=event.kind,
                subject=subject,
                body=body,
                link="/auth/account",
            )
        )
    return notices


def passkeys_of(*, account: Account) -> list[Passkey]:
    """The passkeys of one account, oldest first, as its security page lists them."""
    return list(Passkey.objects.filter(account=account).order_by("created_at"))


def auth_events_recent(*, account: Account, limit: int) -> list[AuthEvent]:
    """The latest ``limit`` sign-ins and other security events of one account, newest first."""
    return list(AuthEvent.objects.filter(account=account).order_by("-at")[:limit])


def relying_parties() -> list[RelyingParty]:
    """Every registered relying party (agency system), by client id."""
    return list(RelyingParty.objects.order_by("client_id"))


@dataclass(frozen=True, slots=True)
class DigitalIdNumbers:
    """Citizens' digital identities in numbers (nobody named): accounts opened for citizens, and
    those activated and in use (activated by their holder and not disabled) as of a moment."""

    citizen_accounts: int
    activated: int


def digital_id_numbers(*, as_of: Any) -> DigitalIdNumbers:
    """One SQL aggregate over the citizens' accounts."""
    from django.db.models import Count, Q

    counts = Account.objects.filter(kind=Account.Kind.CITIZEN, created_at__lte=as_of).aggregate(
        accounts=Count("pk"),
        activated=Count(
            "pk", filter=Q(status=Account.Status.ACTIVE, activated_at__isnull=False, activated_at__lte=as_of)
        ),
    )
    return DigitalIdNumbers(citizen_accounts=counts["accounts"], activated=counts["activated"])

"""What other apps may use of identity: who is calling, what they may do, the API authentication,
what the portal (a relying party) and the registry need from accounts, and the notices a person
must receive about their account (which the notification outbox takes and sends)."""

from __future__ import annotations

from gov21.identity.api_auth import PrincipalAuth, principal_of
from gov21.identity.assertions import ASSERTION_TYP, assertion_issuer, assertion_jwks, person_assertion_issue
from gov21.identity.levels import HIGH, LOW, SUBSTANTIAL
from gov21.identity.selectors import (
    PORTAL_SESSION_KEY,
    AccountNotice,
    account_notices_pending,
    account_status,
    account_summary,
    portal_person_uin,
    principal_from_request,
    session_access_token,
    user_for_subject,
)
from gov21.identity.services import (
    account_disable_for_death,
    account_notice_told,
    activation_code_issue,
    builtin_client_ensure,
    consent_revoke_by_user,
    staff_create,
)
from gov21.identity.session import idp_session_present
from gov21.identity.throttle import ACCOUNT as THROTTLE_IDENTIFIER
from gov21.identity.throttle import ADDRESS as THROTTLE_ADDRESS
from gov21.identity.throttle import address_key, attempt_begin, throttle_key

__all__ = [
    "ASSERTION_TYP",
    "HIGH",
    "LOW",
    "PORTAL_SESSION_KEY",
    "SUBSTANTIAL",
    "THROTTLE_ADDRESS",
    "THROTTLE_IDENTIFIER",
    "AccountNotice",
    "PrincipalAuth",
    "account_disable_for_death",
    "account_notice_told",
    "account_notices_pending",
    "account_status",
    "account_summary",
    "activation_code_issue",
    "address_key",
    "assertion_issuer",
    "assertion_jwks",
    "attempt_begin",
    "builtin_client_ensure",
    "consent_revoke_by_user",
    "idp_session_present",
    "person_assertion_issue",
    "portal_person_uin",
    "principal_from_request",
    "principal_of",
    "session_access_token",
    "staff_create",
    "throttle_key",
    "user_for_subject",
]

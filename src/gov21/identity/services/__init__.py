"""Identity's writes, by subdomain: API tokens, staff, accounts, activation, counter recovery,
passwords, second factors, consent and relying parties. Callers import from here; each name lives
in the module of its subdomain."""

from __future__ import annotations

from gov21.identity.services.accounts import (
    REAUTH_SECONDS,
    account_disable_for_death,
    account_notice_told,
    auth_event_record,
    recent_authentication_check,
)
from gov21.identity.services.activation import (
    ACTIVATION_LIFETIME,
    ACTIVATION_MAX_FAILURES,
    account_activate,
    activation_code_issue,
)
from gov21.identity.services.clients import RegisteredClient, builtin_client_ensure, client_disable, client_register
from gov21.identity.services.consent import consent_covers, consent_grant, consent_revoke, consent_revoke_by_user
from gov21.identity.services.passwords import GENERIC_SIGN_IN_FAILURE, password_authenticate, password_change
from gov21.identity.services.recovery import (
    RECOVERY_REQUEST_LIFETIME,
    account_recoveries_open,
    account_recovery_approve,
    account_recovery_cancel,
    account_recovery_request,
    recoveries_waiting,
)
from gov21.identity.services.second_factors import (
    RECOVERY_CODE_COUNT,
    TOTP_SEAL,
    account_second_factors,
    recovery_code_redeem,
    recovery_codes_issue,
    second_factor_keep_one,
    second_factor_verify,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_enrol_pending,
    totp_remove,
    totp_verify,
)
from gov21.identity.services.staff import staff_create
from gov21.identity.services.tokens import TOKEN_PREFIX, IssuedToken, check_role, token_create, token_revoke

__all__ = [
    "ACTIVATION_LIFETIME",
    "ACTIVATION_MAX_FAILURES",
    "GENERIC_SIGN_IN_FAILURE",
    "REAUTH_SECONDS",
    "RECOVERY_CODE_COUNT",
    "RECOVERY_REQUEST_LIFETIME",
    "TOKEN_PREFIX",
    "TOTP_SEAL",
    "IssuedToken",
    "RegisteredClient",
    "account_activate",
    "account_disable_for_death",
    "account_notice_told",
    "account_recoveries_open",
    "account_recovery_approve",
    "account_recovery_cancel",
    "account_recovery_request",
    "account_second_factors",
    "activation_code_issue",
    "auth_event_record",
    "builtin_client_ensure",
    "check_role",
    "client_disable",
    "client_register",
    "consent_covers",
    "consent_grant",
    "consent_revoke",
    "consent_revoke_by_user",
    "password_authenticate",
    "password_change",
    "recent_authentication_check",
    "recoveries_waiting",
    "recovery_code_redeem",
    "recovery_codes_issue",
    "second_factor_keep_one",
    "second_factor_verify",
    "staff_create",
    "token_create",
    "token_revoke",
    "totp_enrol_begin",
    "totp_enrol_confirm",
    "totp_enrol_pending",
    "totp_remove",
    "totp_verify",
]

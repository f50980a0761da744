"""Person assertions: the provider's short-lived word that a signed-in person asks for one thing.

When a person acts through a system (the one-stop shop declaring their new address to the civil
registry), the receiving agency must know that the person really asked, not merely that the system
says so. The provider vouches for it with a compact JWS (``typ`` ``gov21-person+jwt``, Ed25519,
verified with :func:`gov21.core.crypto.verify_compact` against :func:`assertion_jwks`, published at
``/oidc/assertion-keys.json``). It is issued only on presentation of the person's own live access
token, in the manner of an RFC 8693 token exchange:

* ``iss`` the provider, ``sub`` the citizen's UIN (``staff:<user name>`` for a public servant),
  ``kind`` ``citizen`` or ``staff``;
* ``aud`` the one exchange service that may accept it, ``purpose`` the one action it allows;
* ``act`` ``{"sub": <exchange client>}`` the system acting for the person (RFC 8693 §4.1), and
  ``azp`` the relying party whose access token was exchanged;
* ``acr`` the level of the sign-in; ``iat``, ``exp`` (:data:`ASSERTION_SECONDS`), ``jti`` which
  the receiver records so the assertion is used once.
"""

from __future__ import annotations

import re
import time
from functools import cache
from typing import Any, Final

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.crypto import KeyStore, hash_token, random_token
from gov21.core.errors import DomainError
from gov21.identity.models import Account, OAuthToken

ASSERTION_TYP: Final = "gov21-person+jwt"
# Long enough for the exchange round trip on a slow link, short enough that a copy taken from a
# log is worthless by the time anyone reads it.
ASSERTION_SECONDS: Final = 120
_WORD = re.compile(r"[A-Za-z0-9_.:/-]{1,200}")


@cache
def assertion_keys() -> KeyStore:
    """The provider's assertion signing keys (Ed25519), kept apart from its ID-token keys so that an
    ID token can never pass for an assertion, nor the reverse."""
    return KeyStore(settings.DATA_DIR / "keys", purpose="person-assertions")


def assertion_jwks() -> dict[str, Any]:
    """Every assertion key ever used, as a JWK Set: what a receiving agency verifies with."""
    return assertion_keys().public_jwks()


def assertion_issuer() -> str:
    return str(settings.BASE_URL).rstrip("/")


def _refused(detail: str) -> DomainError:
    return DomainError("person_assertion_refused", detail, status=401, title="Not signed in")


def person_assertion_issue(*, access_token: str, audience: str, purpose: str, actor: str) -> str:
    """Exchange a person's live access token for an assertion naming them, for one service
    (``audience``), one action (``purpose``) and one system acting for them (``actor``)."""
    for name, value in (("audience", audience), ("purpose", purpose), ("actor", actor)):
        if not _WORD.fullmatch(value):
            raise ValueError(f"{name} is not an identifier: {value!r}")
    if not access_token or len(access_token) > 200:
        raise _refused(_("Your sign-in has ended. Sign in again to continue."))
    row = (
        OAuthToken.objects.select_related("account__user", "client")
        .filter(access_hash=hash_token(access_token))
        .first()
    )
    now = timezone.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise _refused(_("Your sign-in has ended. Sign in again to continue."))
    account = row.account
    if account.status != Account.Status.ACTIVE:
        raise _refused(_("This account cannot act."))
    if account.kind == Account.Kind.CITIZEN and account.uin:
        subject = account.uin
    elif account.kind == Account.Kind.STAFF:
        subject = f"staff:{account.user.get_username()}"
    else:
        raise _refused(_("This account cannot act."))
    issued = int(time.time())
    claims = {
        "iss": assertion_issuer(),
        "sub": subject,
        "kind": account.kind,
        "aud": audience,
        "purpose": purpose,
        "act": {"sub": actor},
        "azp": row.client.client_id,
        "acr": row.acr,
        "iat": issued,
        "exp": issued + ASSERTION_SECONDS,
        "jti": random_token(18),
    }
    return assertion_keys().sign(claims, typ=ASSERTION_TYP)

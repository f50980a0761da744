"""What the identity provider's pages accept: sign-in, second factor, activation, the security page,
the counter's activation and recovery pages, the register of relying parties, and the OpenID
Connect parameters posted by browsers and agency systems.

Passwords are neither stripped nor refused for what they hold beyond control characters; a
password, code or name that only has to match something is cut to its length, so a long one simply
does not match, as it always has."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gov21.core.forms import FlagField, Form, TextField, TextListField, WholeNumberField

# A link to come back to after signing in; the session module decides whether it is ours.
_NEXT_LENGTH = 2000
_PASSWORD_LENGTH = 1024
# The back office is in English, as its other messages.
DOCUMENT_NOT_CHECKED = "Confirm that you checked the person's identity document in person."


def _password() -> TextField:
    return TextField(max_length=_PASSWORD_LENGTH, clip=True, strip=False)


class SignInForm(Form):
    next = TextField(max_length=_NEXT_LENGTH)
    identifier = TextField(max_length=150, clip=True, strip=False)
    password = _password()


class VerifyForm(Form):
    next = TextField(max_length=_NEXT_LENGTH)
    level = TextField(max_length=100)
    code = TextField(max_length=64, clip=True, strip=False)


class ActivateForm(Form):
    # Where the person was going when they found they had no digital ID yet: they go on there after.
    next = TextField(max_length=_NEXT_LENGTH)
    # Not cut short: a UIN typed too long is told how long it is (``core.ids.uin_check``), and text past
    # any UIN's length is refused naming the field, never matched against nothing in silence.
    uin = TextField(max_length=100, strip=False, label=_("Your UIN"))
    code = TextField(max_length=40, clip=True, strip=False)
    password = _password()
    password_again = _password()


class SecurityForm(Form):
    """One action of the security page, with the fields that action needs."""

    next = TextField(max_length=_NEXT_LENGTH)
    action = TextField(max_length=40)
    code = TextField(max_length=16, clip=True, strip=False)
    passkey = WholeNumberField()
    current_password = _password()
    new_password = _password()
    new_password_again = _password()


class CounterActivationForm(Form):
    """An officer at the counter: that the person's identity document was checked, and their UIN."""

    checked = FlagField(required=True, error_messages={"required": DOCUMENT_NOT_CHECKED})
    uin = TextField(max_length=20, clip=True, strip=False)


class RecoveryApprovalForm(Form):
    recovery = WholeNumberField()
    checked = FlagField()


class ClientForm(Form):
    """A relying party (agency system) to register: lists are one per line or separated by commas."""

    client_id = TextField(max_length=200)
    name = TextField(max_length=200, strip=False)
    agency = TextField(max_length=200, strip=False)
    sector = TextField(max_length=200)
    purpose = TextField(max_length=2000, strip=False)
    redirect_uris = TextField(max_length=10_000)
    post_logout_redirect_uris = TextField(max_length=10_000)
    scopes = TextListField(max_length=100)
    auth_method = TextField(max_length=100, strip=False)
    jwks = TextField(max_length=100_000)
    may_introspect = FlagField()


class ConsentDecisionForm(Form):
    """A person's answer on the consent page of an authorisation: only "allow" allows."""

    decision = FlagField(expected="allow")


class EndSessionForm(Form):
    """OpenID Connect RP-Initiated Logout: which relying party asks, and where it would send the person."""

    client_id = TextField(max_length=200)
    post_logout_redirect_uri = TextField(max_length=_NEXT_LENGTH, strip=False)


class BearerBodyForm(Form):
    """RFC 6750 §2.2: an access token sent in a form body; its syntax is checked by the caller."""

    access_token = TextField(max_length=10_000, strip=False)

    def token(self) -> str | None:
        """The token sent; "" when what was sent is not text we accept; None when none was sent."""
        return str(self.value("access_token")) if "access_token" in self.data else None

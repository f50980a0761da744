from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token for a system or script. Only the SHA-256 of the token is stored."""

    name = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    role = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"


class StaffRole(models.Model):
    """A role a public servant holds in an agency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gov21_roles")
    role = models.CharField(max_length=32)
    agency = models.CharField(max_length=64, default="civil-registry")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "agency"], name="staff_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}@{self.agency}"


class Account(models.Model):
    """A person's or a public servant's account at the identity provider.

    A citizen account is bound to one UIN for ever: ``uin`` is unique, set once and never changed,
    and an account disabled by a registered death can never be enabled again."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen"
        STAFF = "staff"

    class Status(models.TextChoices):
        PENDING = "pending"  # created, activation code issued, not yet used
        ACTIVE = "active"
        DISABLED = "disabled"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gov21_account")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    uin = models.CharField(max_length=10, unique=True, null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Identity checked face to face by an officer (counter activation): a passkey then gives "high".
    proofed_in_person = models.BooleanField(default=False)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.uin or self.user_id} ({self.status})"


class ActivationCode(models.Model):
    """A one-time code that lets a person take control of their account. Only its hash is kept."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=16)  # "counter": handed over by an officer who checked the person
    issued_by = models.CharField(max_length=150)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"activation for {self.account_id} via {self.channel}"


class TotpFactor(models.Model):
    """An RFC 6238 authenticator app. ``last_step`` stops a code from being used twice. The seed is
    sealed with a key under the data directory (``core.sealing``)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=200)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    # A replacement being set up on a confirmed factor: the confirmed secret keeps working until
    # a code from this one confirms it (sealed like ``secret``).
    pending_secret = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"totp for {self.account_id}"


class RecoveryCode(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code for {self.account_id}"


class Passkey(models.Model):
    """A WebAuthn credential. An account may hold several."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.CharField(max_length=400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"passkey {self.name} for {self.account_id}"


class SignInThrottle(models.Model):
    """Attempts at a secret (password, code, passkey) in the current window of one key: an account,
    a typed identifier or a client address. Keys are hashed, so an unknown identifier is throttled
    exactly like a known one. A window ends ``GOV21_SIGN_IN_WINDOW_SECONDS`` after it started, and
    its count with it (``identity.throttle``)."""

    key = models.CharField(max_length=64, unique=True)
    window_started_ms = models.BigIntegerField(default=0)  # Unix milliseconds: one integer compare in SQL
    attempts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.attempts}"


class AuthEventKind(models.TextChoices):
    """Every kind of event on an account, with the sentence its owner reads in their activity."""

    SIGN_IN = "sign_in", _("You signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Someone tried to sign in to your account and failed")
    SIGN_IN_BLOCKED = "sign_in_blocked", _("Sign-in was paused after too many failed attempts")
    SIGN_OUT = "sign_out", _("You signed out")
    ACTIVATION_CODE_ISSUED = "activation_code_issued", _("An officer gave out a code to activate your digital ID")
    ACCOUNT_ACTIVATED = "account_activated", _("Your digital ID was activated")
    ACCOUNT_DISABLED = "account_disabled", _("Your digital ID was closed")
    ACCOUNT_RECOVERED = "account_recovered", _("Your digital ID was recovered with a code from a service counter")
    FACTOR_ADDED = "factor_added", _("A way to sign in was added (authenticator app or passkey)")
    FACTOR_REMOVED = "factor_removed", _("A way to sign in was removed (authenticator app or passkey)")
    PASSWORD_CHANGED = "password_changed", _("Your password was changed")
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("New recovery codes were made")
    RECOVERY_CODE_USED = "recovery_code_used", _("A recovery code was used to sign in")
    RECOVERY_REQUESTED = "recovery_requested", _("An officer asked to recover your digital ID")
    RECOVERY_APPROVED = "recovery_approved", _("A second officer approved the recovery of your digital ID")
    RECOVERY_CANCELLED = "recovery_cancelled", _("The recovery of your digital ID was cancelled")
    CONSENT_GRANTED = "consent_granted", _("You agreed to share your data with a service")
    CONSENT_REVOKED = "consent_revoked", _("You stopped sharing your data with a service")


class AuthEvent(models.Model):
    """Every sign-in, failure, factor change and consent decision.

    An event the person must hear of (a recovery of their account, a factor removed) has ``tell``;
    the notification outbox takes it through ``identity.contracts`` and sets ``told_at``."""

    at = models.DateTimeField()
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="auth_events")
    kind = models.CharField(max_length=32)
    source = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    tell = models.BooleanField(default=False)
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "at"], name="authevent_account_idx"),
            models.Index(
                fields=["at"],
                name="authevent_to_tell_idx",
                condition=models.Q(tell=True, told_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.account_id}"

    @property
    def kind_label(self) -> str:
        """What happened, as a sentence in the reader's language (the code if it is not declared)."""
        return str(AuthEventKind(self.kind).label) if self.kind in AuthEventKind.values else self.kind


class AccountRecovery(models.Model):
    """Giving an active account back to its owner at a service counter, which replaces the password
    and every second factor. One officer checks the person and asks; a different officer approves,
    and only then is a code printed for the person in front of them. The owner is told at each step
    on every channel and can cancel from their account until the code is used."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recoveries")
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    code = models.OneToOneField(
        ActivationCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="recovery"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=150, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery of {self.account_id} asked by {self.requested_by}"


class RelyingParty(models.Model):
    """An agency system that signs people in through the OpenID Connect provider."""

    class AuthMethod(models.TextChoices):
        PRIVATE_KEY_JWT = "private_key_jwt"
        CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name; development clients only

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    agency = models.CharField(max_length=120)
    sector = models.CharField(max_length=64)
    purpose = models.CharField(max_length=300)
    redirect_uris = models.JSONField(default=list)
    post_logout_redirect_uris = models.JSONField(default=list, blank=True)
    allowed_scopes = models.JSONField(default=list)
    auth_method = models.CharField(max_length=24, choices=AuthMethod.choices)
    jwks = models.JSONField(null=True, blank=True)
    jwks_uri = models.URLField(blank=True)
    secret_hash = models.CharField(max_length=64, blank=True)
    may_introspect = models.BooleanField(default=False)
    # OpenID Connect Dynamic Client Registration §2: how this client wants its ID tokens signed.
    id_token_signed_response_alg = models.CharField(max_length=8, default="ES256")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    disabled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client_id} ({self.agency})"


class Subject(models.Model):
    """The pairwise subject identifier of an account in one sector."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="subjects")
    sector = models.CharField(max_length=64)
    sub = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sector", "sub"], name="subject_sector_sub"),
            models.UniqueConstraint(fields=["account", "sector"], name="subject_account_sector"),
        ]

    def __str__(self) -> str:
        return f"{self.sector}:{self.sub}"


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    redirect_uri = models.CharField(max_length=500)
    scope = models.CharField(max_length=300)
    nonce = models.CharField(max_length=200, blank=True)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=8)
    acr = models.CharField(max_length=64)
    amr = models.JSONField(default=list)
    auth_time = models.BigIntegerField()
    expires_at = models.DateTimeField()
    # A code is kept after use so that a second use can be refused and its tokens revoked (RFC 6749 §4.1.2).
    used_at = models.DateTimeField(null=True, blank=True)
    family = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["client", "nonce"], name="authcode_client_nonce_idx"),
            models.Index(fields=["expires_at"], name="authcode_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"code for {self.client_id}"


class OAuthToken(models.Model):
    """An access token and its refresh token. Only hashes are stored. Rotated refresh tokens
    share a ``family``: presenting a rotated-out refresh token revokes the whole family."""

    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    family = models.CharField(max_length=32)
    access_hash = models.CharField(max_length=64, unique=True)
    refresh_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    scope = models.CharField(max_length=300)
    acr = models.CharField(max_length=64)
    amr = models.JSONField(default=list)
    auth_time = models.BigIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["family"], name="oauthtoken_family_idx")]

    def __str__(self) -> str:
        return f"token {self.pk} for {self.client_id}"


class Consent(models.Model):
    """What a person agreed to release to one relying party. Revoking keeps the row."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="consents")
    client = models.ForeignKey(RelyingParty, on_delete=models.CASCADE)
    scopes = models.JSONField(default=list)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "client"], name="consent_account_client_idx")]

    def __str__(self) -> str:
        return f"consent {self.account_id} → {self.client_id}"


class AssertionJti(models.Model):
    """``jti`` values of client assertions seen before their expiry: a second use is a replay."""

    client_id = models.CharField(max_length=64)
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "jti"], name="assertion_jti_unique")]
        indexes = [models.Index(fields=["expires_at"], name="assertion_jti_expires_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.jti}"

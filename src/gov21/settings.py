"""Django settings, built from the declarations in ``gov21.core.config``. Nothing here reads the
environment directly."""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from csp.constants import NONCE, NONE, SELF

from gov21.core import config

# Every file gov21 creates (databases and their WAL, keys, backups, exports) is its owner's alone:
# the data directory holds a nation's civil registry and the keys that sign its certificates.
os.umask(0o077)
DATA_DIR: Path = config.DATA_DIR.read().resolve()


def _private_data_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o700)
        # Before logging is configured: the operator sees this once, on the terminal that started gov21.
        sys.stderr.write(f"gov21: the data directory {path} was readable by others (mode {mode:o}); it is now 700.\n")


_private_data_dir(DATA_DIR)


def _secret_key() -> str:
    # Generated on first run and kept beside the data it protects, never in the repository.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        try:
            fd = path.open("x", encoding="ascii")
        except FileExistsError:
            pass
        else:
            with fd:
                path.chmod(0o600)
                fd.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()
DEBUG = config.DEBUG.read()
ALLOWED_HOSTS = config.ALLOWED_HOSTS.read()
BASE_URL = config.BASE_URL.read().rstrip("/")
GOV21_INSTANCE = config.INSTANCE.read()
GOV21_COUNTRY_NAME = config.COUNTRY_NAME.read()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "gov21.core",
    "gov21.identity",
    "gov21.audit",
    "gov21.registry",
    "gov21.onestop",
    "gov21.portal",
    "gov21.continuity",
    "gov21.land",
    "gov21.linkage",
    "gov21.statistics",
    "gov21.assets",
    "gov21.participation",
    "gov21.concerns",
    "gov21.opendata",
    "gov21.exchange",
    "gov21.geo",
    "gov21.imagery",
    "gov21.readiness",
    "gov21.demo",
    "gov21.wiring",  # the commands that wire every app together: up, openapi
]

MIDDLEWARE = [
    # First, so that it compresses what every other middleware made of the page (decision 0037).
    "gov21.core.middleware.CompressPages",
    "gov21.core.logs.RequestIdMiddleware",
    "gov21.core.http.ForwardedProtoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before the session and every database read: a refusal past capacity costs almost nothing.
    "gov21.core.capacity.AdmissionMiddleware",
    # Agencies' reads of a person by UIN, answered before the session and the API framework that
    # they do not use; every other request goes on (decision 0035).
    "gov21.registry.person_read.PersonReadMiddleware",
    # Anonymous searches of the data portal's catalogue, likewise (decision 0077).
    "gov21.opendata.search_read.SearchReadMiddleware",
    # Anonymous pages of a public collection's features as GeoJSON, likewise (decision 0079).
    "gov21.geo.items_read.ItemsReadMiddleware",
    "gov21.identity.csp.RelyingPartyFormActionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gov21.portal.tokens.fresh_access_token",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gov21.core.middleware.private_no_store",
]

ROOT_URLCONF = "gov21.urls"
WSGI_APPLICATION = "gov21.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gov21.portal.context.site",
                "gov21.portal.context.staff",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = config.DATABASE_URL.read()
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"postgres", "postgresql"}:
            raise ValueError(f"GOV21_DATABASE_URL must be a postgresql:// URL, not {parsed.scheme!r}")
        return {
            # Django's PostgreSQL backend, with a health check that costs no round trip (decision 0083).
            "ENGINE": "gov21.core.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "gov21",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": f"test_{unquote(parsed.path.lstrip('/')) or 'gov21'}"},
        }
    busy_ms = config.SQLITE_BUSY_TIMEOUT_MS.read()
    return {
        # Django's SQLite backend, with PRAGMA optimize as each connection closes (decision 0073).
        "ENGINE": "gov21.core.backends.sqlite3",
        "NAME": str(DATA_DIR / "gov21.sqlite3"),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
            # instead of failing with "database is locked" when a read transaction upgrades.
            "transaction_mode": "IMMEDIATE",
            "timeout": busy_ms / 1000,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                f"PRAGMA busy_timeout={busy_ms};"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA mmap_size=268435456;"
                "PRAGMA cache_size=-65536;"
                # Each ANALYZE (PRAGMA optimize's too) samples this many rows of an index.
                "PRAGMA analysis_limit=1000;"
            ),
        },
        "CONN_MAX_AGE": 600,
        # Tests run on Django's shared in-memory database, one per test process; named explicitly
        # because pytest-django recognises that default only for Django's own engine path.
        "TEST": {"NAME": ":memory:"},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Argon2id for new and changed passwords; older hashes are upgraded at the next sign-in.
# Ours first: new hashes take its parameters and older ones are hashed again at sign-in (decision 0028).
# Django's own Argon2 hasher is not listed: it shares the name "argon2" and would take those hashes over.
PASSWORD_HASHERS = [
    "gov21.identity.passwords.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "gov21.identity.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:office"

SESSION_COOKIE_AGE = config.SESSION_AGE_SECONDS.read()

# Production is an https public address: the TLS terminates here or at a trusted proxy in front.
# A laptop or demo on http://127.0.0.1 keeps working without certificates.
PRODUCTION = BASE_URL.startswith("https://")


def _networks(setting: config.Setting[list[str]]) -> list[str]:
    # Checked here, once: a mistyped network would otherwise fail every request that asks about it.
    networks = setting.read()
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"{setting.name}: {network!r} is not a network such as 10.0.0.2/32") from exc
    return networks


GOV21_TRUSTED_PROXIES = _networks(config.TRUSTED_PROXIES)
GOV21_READYZ_ALLOW = _networks(config.READYZ_ALLOW)
if GOV21_TRUSTED_PROXIES:
    # Believed only from the proxies themselves: gov21.core.http.ForwardedProtoMiddleware drops the
    # header from anyone else before this is read.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Past capacity a request is answered 503 with Retry-After (gov21.core.capacity). Not counted: what
# monitors and load balancers ask, static files, and the identity provider's back channel, which the
# portal calls from inside a sign-in it already let in (refusing it would fail that sign-in half way).
GOV21_ADMISSION_EXEMPT = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/",
    "/oidc/token",
    "/oidc/userinfo",
    "/oidc/jwks.json",
    "/.well-known/openid-configuration",
]
# Requests that continue a sign-in already started take the request gate's lane for people
# continuing (decision 0034), as every form a person sends (POST) does: the pages the redirects of a
# sign-in lead through, which someone just arriving does not ask for by themselves.
GOV21_ADMISSION_CONTINUING = ["/sign-in", "/oidc/authorize", "/auth/sign-in", "/auth/verify", "/auth/callback"]
# Paths answered with problem+json whatever the client accepts.
GOV21_API_PREFIXES = ("/api/", "/exchange/", "/oidc/token", "/oidc/userinfo", "/oidc/introspect", "/oidc/revoke")
SECURE_SSL_REDIRECT = PRODUCTION
# Load balancers and internal monitors probe over plain http on the inside network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION and config.HSTS_PRELOAD.read()
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    # Preloading is a promise to browsers' built-in lists that takes months to withdraw, so it is the
    # operator's choice (GOV21_HSTS_PRELOAD), not a deploy check's warning.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
# Pages' scripts take the CSRF token from the page, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
# A form sent after its page expired is told so in the person's language, with what to do.
CSRF_FAILURE_VIEW = "gov21.urls.csrf_failure"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    # "__Host-": a browser keeps such a cookie only if it is Secure, for path / and this exact host,
    # so a neighbouring site under the same domain can neither read nor plant a session or CSRF token.
    SESSION_COOKIE_NAME = "__Host-gov21-session"
    CSRF_COOKIE_NAME = "__Host-gov21-csrf"
if not PRODUCTION:
    # A laptop or demo served over plain http: let the OpenID Connect provider (Authlib) answer there too.
    # Production sets an https GOV21_BASE_URL, and Authlib then refuses any request that arrived over http.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

# Pages work without JavaScript; the little they have (passkeys) and their one stylesheet are inline
# with the response's nonce, so nothing injected into a page runs or restyles it. form-action also
# covers the redirects after a form: the identity provider's pages add the registered relying
# parties' origins (gov21.identity.csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("nl", "Nederlands")]
TIME_ZONE = "America/Port_of_Spain"
USE_I18N = True
# The platform's own translations, shipped inside the package beside this file.
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

GOV21_MIN_PARENT_AGE = config.MIN_PARENT_AGE.read()
GOV21_BACKUP_TARGETS = config.BACKUP_TARGETS.read()
GOV21_BACKUP_MAX_AGE_MINUTES = config.BACKUP_MAX_AGE_MINUTES.read()
GOV21_DRILL_OVERDUE_DAYS = config.DRILL_OVERDUE_DAYS.read()
GOV21_S3_ENDPOINT_URL = config.S3_ENDPOINT_URL.read()
GOV21_S3_REGION = config.S3_REGION.read()
GOV21_S3_ACCESS_KEY_ID = config.S3_ACCESS_KEY_ID.read()
GOV21_S3_SECRET_ACCESS_KEY = config.S3_SECRET_ACCESS_KEY.read()
GOV21_IMAGERY_STORAGE = config.IMAGERY_STORAGE.read() or str(DATA_DIR / "imagery")
GOV21_MARRIAGE_AGE = config.MARRIAGE_AGE.read()
GOV21_REGISTRATION_TARGET_DAYS = config.REGISTRATION_TARGET_DAYS.read()
GOV21_REGISTRATION_LATE_DAYS = config.REGISTRATION_LATE_DAYS.read()
# Features' GeoJSON each web worker keeps for the geographic API's pages (decision 0079).
GOV21_GEO_FEATURES_KEPT_MB = config.GEO_FEATURES_KEPT_MB.read()
GOV21_STATISTICS_BIRTHS_PER_1000 = config.STATISTICS_BIRTHS_PER_1000.read()
GOV21_STATISTICS_DEATHS_PER_1000 = config.STATISTICS_DEATHS_PER_1000.read()
GOV21_STATISTICS_RENEWAL_YEARS = config.STATISTICS_RENEWAL_YEARS.read()
GOV21_PUBLIC_HOLIDAYS = config.iso_dates(config.PUBLIC_HOLIDAYS)
GOV21_UIN_POOL_SIZE = config.UIN_POOL_SIZE.read()
GOV21_UIN_POOL_LOW_WATER = config.UIN_POOL_LOW_WATER.read()
GOV21_PORTAL_PROVIDER_TRANSPORT = config.PORTAL_PROVIDER_TRANSPORT.read()
if GOV21_PORTAL_PROVIDER_TRANSPORT not in {"in-process", "http"}:
    raise ValueError(
        f"GOV21_PORTAL_PROVIDER_TRANSPORT must be in-process or http, not {GOV21_PORTAL_PROVIDER_TRANSPORT!r}"
    )
GOV21_PORTAL_PROVIDER_THREADS = max(1, config.PORTAL_PROVIDER_THREADS.read())
GOV21_PORTAL_PROVIDER_QUEUE = max(1, config.PORTAL_PROVIDER_QUEUE.read())
GOV21_PORTAL_PROVIDER_TIMEOUT_S = max(1, config.PORTAL_PROVIDER_TIMEOUT_S.read())

NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "gov21.core.logs.RedactFilter"}},
    "formatters": {"json": {"()": "gov21.core.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"gov21": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

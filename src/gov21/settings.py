"""Django settings, built from the declarations in ``gov21.core.config``. Nothing here reads the
environment directly."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

from gov21.core import config

DATA_DIR: Path = config.DATA_DIR.read().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "gov21.core",
    "gov21.identity",
    "gov21.audit",
    "gov21.registry",
    "gov21.services",
    "gov21.portal",
    "gov21.continuity",
    "gov21.exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
            "ENGINE": "django.db.backends.postgresql",
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
        "ENGINE": "django.db.backends.sqlite3",
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
            ),
        },
        "CONN_MAX_AGE": 600,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Argon2id for new and changed passwords; older hashes are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
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
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
if not SESSION_COOKIE_SECURE:
    # A laptop or demo served over plain http: let the OpenID Connect provider (Authlib) answer there too.
    # Production sets an https GOV21_BASE_URL, and Authlib then refuses any request that arrived over http.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

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
GOV21_MARRIAGE_AGE = config.MARRIAGE_AGE.read()
GOV21_REGISTRATION_TARGET_DAYS = config.REGISTRATION_TARGET_DAYS.read()
GOV21_REGISTRATION_LATE_DAYS = config.REGISTRATION_LATE_DAYS.read()
GOV21_UIN_POOL_SIZE = config.UIN_POOL_SIZE.read()
GOV21_UIN_POOL_LOW_WATER = config.UIN_POOL_LOW_WATER.read()

NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"gov21": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

"""Every setting gov21 reads from the environment, declared once with a type, a default and a line of
documentation. ``docs/configuration.md`` is generated from this list (``gov21 docs-config``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    name: str
    kind: type[T]
    default: T
    doc: str

    def read(self) -> T:
        raw = os.environ.get(self.name)
        if raw is None or raw == "":
            return self.default
        return _parse(self, raw)


def iso_dates(setting: Setting[list[str]]) -> frozenset[date]:
    """The dates of a comma-separated list of ISO dates (2026-12-25), refused with the setting's name when one
    is not a date."""
    dates = set()
    for part in setting.read():
        try:
            dates.add(date.fromisoformat(part))
        except ValueError as exc:
            raise ValueError(f"{setting.name} must list dates as YYYY-MM-DD, not {part!r}") from exc
    return frozenset(dates)


def _parse(setting: Setting[T], raw: str) -> T:
    kind = setting.kind
    value: object
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"{setting.name} must be true or false, not {raw!r}")
        value = lowered in {"1", "true", "yes", "on"}
    elif kind is int:
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValueError(f"{setting.name} must be a whole number, not {raw!r}") from exc
    elif kind is Path:
        value = Path(raw).expanduser()
    elif kind is list:
        value = [part.strip() for part in raw.split(",") if part.strip()]
    else:
        value = raw
    return value  # type: ignore[return-value]


DATA_DIR: Setting[Path] = Setting(
    "GOV21_DATA_DIR", Path, Path("var"), "Directory that holds all state: databases, keys, backups."
)
DATABASE_URL: Setting[str] = Setting(
    "GOV21_DATABASE_URL",
    str,
    "",
    "PostgreSQL URL (postgresql://user:pass@host:port/name). Empty: embedded SQLite under the data directory.",
)
DEBUG: Setting[bool] = Setting("GOV21_DEBUG", bool, False, "Django debug mode. Never on in production.")
ALLOWED_HOSTS: Setting[list[str]] = Setting(
    "GOV21_ALLOWED_HOSTS",
    list,
    ["127.0.0.1", "localhost", "[::1]", "testserver"],
    "Comma-separated host names this server answers to.",
)
BASE_URL: Setting[str] = Setting(
    "GOV21_BASE_URL", str, "http://127.0.0.1:8000", "Public address of this server, used in certificates and links."
)
TRUSTED_PROXIES: Setting[list[str]] = Setting(
    "GOV21_TRUSTED_PROXIES",
    list,
    [],
    "Comma-separated networks (CIDR) of the reverse proxies in front of gov21. Only a request from one of them"
    " has its X-Forwarded-For and X-Forwarded-Proto believed. Empty: no proxy; those headers are ignored.",
)
HSTS_PRELOAD: Setting[bool] = Setting(
    "GOV21_HSTS_PRELOAD",
    bool,
    False,
    "Ask browsers to preload HTTPS-only for the domain and its subdomains (hard to undo; submit the domain first).",
)
READYZ_ALLOW: Setting[list[str]] = Setting(
    "GOV21_READYZ_ALLOW",
    list,
    ["127.0.0.0/8", "::1/128"],
    "Comma-separated networks (CIDR) of monitors allowed to read /readyz; everyone else gets 403.",
)
INSTANCE: Setting[str] = Setting(
    "GOV21_INSTANCE", str, "XA", "Exchange instance code of this nation (ISO 3166 user-assigned, e.g. XA)."
)
COUNTRY_NAME: Setting[str] = Setting(
    "GOV21_COUNTRY_NAME", str, "Republic of XA", "Name of the state, printed on certificates."
)
READINESS_HUB: Setting[str] = Setting(
    "GOV21_READINESS_HUB",
    str,
    "",
    "Exchange instance of the regional hub that national readiness assessments are sent to "
    "(its DGO/readiness/regional service); empty: this instance is its own hub.",
)
READINESS_COUNTRY: Setting[str] = Setting(
    "GOV21_READINESS_COUNTRY",
    str,
    "",
    "ISO 3166-1 alpha-3 code of the country this instance's readiness assessments speak for "
    "(for example BRB); empty: assessments are not sent to a regional hub.",
)
READINESS_MEASURE_EVERY_SECONDS: Setting[int] = Setting(
    "GOV21_READINESS_MEASURE_EVERY_SECONDS",
    int,
    86400,
    "How often `gov21 up` measures the live readiness indicators from the agencies' numbers (0: never;"
    " `gov21 readiness measure` measures once).",
)
SQLITE_BUSY_TIMEOUT_MS: Setting[int] = Setting(
    "GOV21_SQLITE_BUSY_TIMEOUT_MS", int, 10000, "How long a SQLite writer waits for the write lock."
)
LOG_WAIT_S: Setting[int] = Setting(
    "GOV21_LOG_WAIT_S",
    int,
    30,
    "How long, in seconds, a request waits for the log entries it handed to the group writer to be "
    "committed; past it the request fails (503) and releases nothing.",
)
LOG_QUEUE_MAX: Setting[int] = Setting(
    "GOV21_LOG_QUEUE_MAX",
    int,
    10000,
    "How many requests of one process may wait at once for their log entries to be written "
    "together; one more fails at once (503) instead of queueing without end.",
)
UIN_POOL_SIZE: Setting[int] = Setting(
    "GOV21_UIN_POOL_SIZE", int, 2000, "Number of unissued UINs the pool is refilled to."
)
UIN_POOL_LOW_WATER: Setting[int] = Setting(
    "GOV21_UIN_POOL_LOW_WATER", int, 500, "When fewer UINs than this remain, the worker refills the pool."
)
MIN_PARENT_AGE: Setting[int] = Setting(
    "GOV21_MIN_PARENT_AGE", int, 14, "Minimum age in years a parent must be older than the child."
)
MARRIAGE_AGE: Setting[int] = Setting("GOV21_MARRIAGE_AGE", int, 18, "Legal minimum age for marriage.")
REGISTRATION_TARGET_DAYS: Setting[int] = Setting(
    "GOV21_REGISTRATION_TARGET_DAYS", int, 45, "A birth or death registered within this many days is on time."
)
REGISTRATION_LATE_DAYS: Setting[int] = Setting(
    "GOV21_REGISTRATION_LATE_DAYS",
    int,
    365,
    "Registered after the target but within this many days: late; beyond: delayed.",
)
PUBLIC_HOLIDAYS: Setting[list[str]] = Setting(
    "GOV21_PUBLIC_HOLIDAYS",
    list,
    [],
    "Comma-separated public holidays as ISO dates (2026-12-25,2026-12-26), each year's listed. They are not"
    " working days: the time an officer has to decide a review of a refusal is counted without them.",
)
WEB_WORKERS: Setting[int] = Setting("GOV21_WEB_WORKERS", int, 3, "Web server worker processes started by `gov21 up`.")
WEB_REUSE_PORT: Setting[bool] = Setting(
    "GOV21_WEB_REUSE_PORT",
    bool,
    True,
    "Each web server worker started by `gov21 up` listens on the port itself (SO_REUSEPORT) and the kernel spreads"
    " new connections across the workers evenly; false: the workers share one socket and race to accept.",
)
WEB_MALLOC_ARENAS: Setting[int] = Setting(
    "GOV21_WEB_MALLOC_ARENAS",
    int,
    2,
    "glibc malloc arenas of each web server worker started by `gov21 up` (MALLOC_ARENA_MAX);"
    " 0 leaves glibc's default of eight per core. Many threads each given an arena of their own"
    " hold memory freed long ago (decision 0049).",
)
WEB_THREADS: Setting[int] = Setting(
    "GOV21_WEB_THREADS",
    int,
    64,
    "Threads of each web server worker process started by `gov21 up`: the requests it works on"
    " (`GOV21_WEB_SLOTS`, `GOV21_WEB_CONTINUING_SLOTS`), those waiting for one (`GOV21_WEB_QUEUE`,"
    " `GOV21_WEB_CONTINUING_QUEUE`), and room to refuse the rest at once.",
)
WEB_SLOTS: Setting[int] = Setting(
    "GOV21_WEB_SLOTS",
    int,
    8,
    "Requests one web server process works on at once; the platform's health checks, metrics, static files and"
    " the identity provider's back channel (token, userinfo, keys) are not counted.",
)
WEB_QUEUE: Setting[int] = Setting(
    "GOV21_WEB_QUEUE",
    int,
    16,
    "Requests one web server process lets wait for a slot; past them a request is answered 503 with Retry-After"
    " at once.",
)
WEB_CONTINUING_SLOTS: Setting[int] = Setting(
    "GOV21_WEB_CONTINUING_SLOTS",
    int,
    4,
    "Requests one web server process works on at once beyond `GOV21_WEB_SLOTS`, kept for people continuing"
    " something they started (a form they hold, the next step of a sign-in); they are also served first.",
)
WEB_CONTINUING_QUEUE: Setting[int] = Setting(
    "GOV21_WEB_CONTINUING_QUEUE",
    int,
    16,
    "Requests continuing something a person started that one web server process lets wait for a slot, apart"
    " from `GOV21_WEB_QUEUE`.",
)
WEB_WAIT_MS: Setting[int] = Setting(
    "GOV21_WEB_WAIT_MS",
    int,
    1000,
    "How long a request waits for a slot before it is answered 503 with Retry-After (milliseconds).",
)
BUSY_RETRY_AFTER_SECONDS: Setting[int] = Setting(
    "GOV21_BUSY_RETRY_AFTER_SECONDS",
    int,
    5,
    "The Retry-After of a 503 answered because the server or the password step is full: when to try again.",
)
PASSWORD_SLOTS: Setting[int] = Setting(
    "GOV21_PASSWORD_SLOTS",
    int,
    1,
    "Passwords one web server process hashes or checks at once, on threads of lowered CPU priority.",
)
PASSWORD_QUEUE: Setting[int] = Setting(
    "GOV21_PASSWORD_QUEUE",
    int,
    8,
    "Password checks one process lets wait for a slot; past them the sign-in answers 503 with Retry-After at once.",
)
PASSWORD_WAIT_MS: Setting[int] = Setting(
    "GOV21_PASSWORD_WAIT_MS",
    int,
    2000,
    "How long a password check waits for a slot before the sign-in answers 503 with Retry-After (milliseconds).",
)
SESSION_AGE_SECONDS: Setting[int] = Setting(
    "GOV21_SESSION_AGE_SECONDS", int, 8 * 3600, "Staff sessions expire after this many seconds."
)
SIGN_IN_WINDOW_SECONDS: Setting[int] = Setting(
    "GOV21_SIGN_IN_WINDOW_SECONDS",
    int,
    900,
    "Failed sign-in attempts (passwords, codes, passkeys) are counted in windows of this many seconds, then forgotten.",
)
SIGN_IN_ACCOUNT_ATTEMPTS: Setting[int] = Setting(
    "GOV21_SIGN_IN_ACCOUNT_ATTEMPTS",
    int,
    5,
    "Wrong attempts at one account (or one typed identifier) per window before it waits for the window to end.",
)
SIGN_IN_ADDRESS_ATTEMPTS: Setting[int] = Setting(
    "GOV21_SIGN_IN_ADDRESS_ATTEMPTS",
    int,
    100,
    "Wrong attempts from one client address (an IPv6 /64) per window, across accounts; raise it where many people"
    " share one address (a carrier's NAT).",
)
PORTAL_PROVIDER_TRANSPORT: Setting[str] = Setting(
    "GOV21_PORTAL_PROVIDER_TRANSPORT",
    str,
    "in-process",
    "How the portal reaches the identity provider of its own deployment for tokens, userinfo and keys: in-process"
    " (this process's own application on a small pool of threads, no socket) or http (GOV21_BASE_URL over the"
    " network, one bounded connection pool per process).",
)
PORTAL_PROVIDER_THREADS: Setting[int] = Setting(
    "GOV21_PORTAL_PROVIDER_THREADS",
    int,
    4,
    "Calls to the identity provider one web process runs at once: threads in-process, connections over http.",
)
PORTAL_PROVIDER_QUEUE: Setting[int] = Setting(
    "GOV21_PORTAL_PROVIDER_QUEUE",
    int,
    16,
    "Calls to the identity provider that wait for one of those threads (in-process); one more finds the portal"
    " busy: the person is asked to try again (503 with Retry-After).",
)
PORTAL_PROVIDER_TIMEOUT_S: Setting[int] = Setting(
    "GOV21_PORTAL_PROVIDER_TIMEOUT_S",
    int,
    5,
    "Seconds the portal waits for an answer of the identity provider, queue included, before asking the person"
    " to try again.",
)
BACKUP_TARGETS: Setting[list[str]] = Setting(
    "GOV21_BACKUP_TARGETS",
    list,
    [],
    "Comma-separated places `gov21 backup` writes to when no --to is given: directories, s3://bucket/prefix,"
    " partner:<instance>.",
)
BACKUP_EVERY_SECONDS: Setting[int] = Setting(
    "GOV21_BACKUP_EVERY_SECONDS",
    int,
    60,
    "How often `gov21 up` backs a SQLite node up to its targets; the RPO is at worst this plus one backup's time"
    " (PostgreSQL nodes: hourly, with the WAL archive between).",
)
BACKUP_KEEP: Setting[int] = Setting(
    "GOV21_BACKUP_KEEP", int, 1440, "Backups `gov21 up` keeps on each target: the newest this many (a day of minutes)…"
)
BACKUP_KEEP_DAILY: Setting[int] = Setting(
    "GOV21_BACKUP_KEEP_DAILY", int, 90, "…and the newest of each of the last this many days."
)
BACKUP_MAX_AGE_MINUTES: Setting[int] = Setting(
    "GOV21_BACKUP_MAX_AGE_MINUTES",
    int,
    15,
    "Alert when a configured backup target has had no successful backup for this many minutes.",
)
DRILL_OVERDUE_DAYS: Setting[int] = Setting(
    "GOV21_DRILL_OVERDUE_DAYS",
    int,
    8,
    "Alert when the last successful restore drill of a backup target is older than this many days.",
)
S3_ENDPOINT_URL: Setting[str] = Setting(
    "GOV21_S3_ENDPOINT_URL",
    str,
    "",
    "S3-compatible endpoint for s3:// backup targets and imagery storage (empty: AWS's).",
)
S3_REGION: Setting[str] = Setting(
    "GOV21_S3_REGION", str, "us-east-1", "Region of the s3:// backup targets and imagery storage."
)
S3_ACCESS_KEY_ID: Setting[str] = Setting(
    "GOV21_S3_ACCESS_KEY_ID",
    str,
    "",
    "Access key for s3:// backup targets and imagery storage (empty: the usual AWS chain).",
)
S3_SECRET_ACCESS_KEY: Setting[str] = Setting(
    "GOV21_S3_SECRET_ACCESS_KEY",
    str,
    "",
    "Secret key for s3:// backup targets and imagery storage; set it in the environment only.",
)
EMBASSY_QUOTA_GB: Setting[int] = Setting(
    "GOV21_EMBASSY_QUOTA_GB",
    int,
    200,
    "Space this node lends each partner government for its encrypted backups (the data embassy), in GB.",
)
DEMO_PEOPLE: Setting[int] = Setting(
    "GOV21_DEMO_PEOPLE", int, 20000, "People generated for the demo nation when the data directory is empty."
)
PAY_URL: Setting[str] = Setting(
    "GOV21_PAY_URL",
    str,
    "",
    "Base URL of the GOV.UK Pay-compatible payment provider (e.g. https://publicapi.payments.service.gov.uk). "
    "Empty: hosted payments off; citizens pay at an office.",
)
PAY_PAGES: Setting[list[str]] = Setting(
    "GOV21_PAY_PAGES",
    list,
    [],
    "Comma-separated origins of the payment provider's hosted pages, where a citizen is sent to pay (e.g."
    " https://card.payments.service.gov.uk). Empty: the origin of GOV21_PAY_URL. The content security policy"
    " lets the pay page send people there and nowhere else.",
)
PAY_KEY: Setting[str] = Setting(
    "GOV21_PAY_KEY", str, "", "API key for the payment provider; set it in the environment only."
)

EXCHANGE_NODE: Setting[str] = Setting(
    "GOV21_EXCHANGE_NODE", str, "main", "Code of the exchange gateway node this process runs as."
)
EXCHANGE_CONF_LIFETIME_S: Setting[int] = Setting(
    "GOV21_EXCHANGE_CONF_LIFETIME_S",
    int,
    600,
    "Seconds a signed exchange configuration stays valid; nodes refuse traffic on an older one.",
)
EXCHANGE_CONF_REFRESH_S: Setting[int] = Setting(
    "GOV21_EXCHANGE_CONF_REFRESH_S", int, 2, "How often a node looks for a newer configuration."
)
EXCHANGE_MAX_BODY_BYTES: Setting[int] = Setting(
    "GOV21_EXCHANGE_MAX_BODY_BYTES", int, 10 * 1024 * 1024, "Largest request or response body a gateway accepts."
)
EXCHANGE_MAX_INFLIGHT: Setting[int] = Setting(
    "GOV21_EXCHANGE_MAX_INFLIGHT",
    int,
    512,
    "Messages one process of a gateway listener handles at once; one more is refused at once (503 with "
    "Retry-After) instead of queueing without end.",
)
EXCHANGE_CLIENT_CONNECTION: Setting[str] = Setting(
    "GOV21_EXCHANGE_CLIENT_CONNECTION",
    str,
    "https",
    "How information systems without their own rule must connect to the gateway: https (TLS with a registered "
    "client certificate; an unregistered system has none, so it is refused) or http (only from the networks "
    "below).",
)
EXCHANGE_HTTP_CLIENT_NETWORKS: Setting[list[str]] = Setting(
    "GOV21_EXCHANGE_HTTP_CLIENT_NETWORKS",
    list,
    [],
    "Comma-separated networks (CIDR) besides loopback from which information systems registered for plain http "
    "may call the gateway's client interface. Empty: loopback only.",
)
EXCHANGE_METRICS_NETWORKS: Setting[list[str]] = Setting(
    "GOV21_EXCHANGE_METRICS_NETWORKS",
    list,
    [],
    "Comma-separated networks (CIDR) besides loopback from which /metrics may be scraped on the client "
    "interface. Empty: loopback only.",
)
EXCHANGE_LOG_BODIES: Setting[bool] = Setting(
    "GOV21_EXCHANGE_LOG_BODIES", bool, False, "Keep full message bodies in the message log, encrypted at rest."
)

TSA_URL: Setting[str] = Setting(
    "GOV21_TSA_URL",
    str,
    "",
    "RFC 3161 timestamping authority that countersigns the logs' signed tree heads (gov21 tsa serve runs one). "
    "Empty: heads carry the node's signature only.",
)
TSA_CERT: Setting[str] = Setting(
    "GOV21_TSA_CERT",
    str,
    "",
    "PEM certificate of that authority; countersignatures by any other key are refused.",
)

SMTP_HOST: Setting[str] = Setting(
    "GOV21_SMTP_HOST", str, "", "Mail server notifications are sent through. Empty: no email, the portal inbox only."
)
SMTP_PORT: Setting[int] = Setting("GOV21_SMTP_PORT", int, 25, "Port of the mail server.")
SMTP_STARTTLS: Setting[bool] = Setting(
    "GOV21_SMTP_STARTTLS", bool, False, "Require STARTTLS before sending (mail waits if the server does not offer it)."
)
SMTP_USER: Setting[str] = Setting("GOV21_SMTP_USER", str, "", "User name at the mail server. Empty: no login.")
SMTP_PASSWORD: Setting[str] = Setting(
    "GOV21_SMTP_PASSWORD", str, "", "Password at the mail server; set it in the environment only."
)
MAIL_FROM: Setting[str] = Setting(
    "GOV21_MAIL_FROM", str, "no-reply@gov21.example", "Sender address of notification emails."
)
SMS_URL: Setting[str] = Setting(
    "GOV21_SMS_URL", str, "", "SMS provider endpoint notifications are POSTed to as JSON. Empty: no SMS."
)
SMS_TOKEN: Setting[str] = Setting(
    "GOV21_SMS_TOKEN", str, "", "Bearer token for the SMS provider; set it in the environment only."
)

GEO_PROJECTED_EPSG: Setting[int] = Setting(
    "GOV21_GEO_PROJECTED_EPSG",
    int,
    32620,
    "EPSG code of the projected CRS (metres) in which areas and lengths are computed and that the geographic"
    " API offers besides CRS84. The default, UTM zone 20N, fits the eastern Caribbean.",
)

GEO_FEATURES_KEPT_MB: Setting[int] = Setting(
    "GOV21_GEO_FEATURES_KEPT_MB",
    int,
    256,
    "Megabytes of features' GeoJSON each web worker keeps for the pages of the geographic API (about 450"
    " bytes a parcel); past it, everything kept is dropped and kept anew. 0 keeps nothing (every page is"
    " rendered afresh).",
)

IMAGERY_STORAGE: Setting[str] = Setting(
    "GOV21_IMAGERY_STORAGE",
    str,
    "",
    "Where imagery files (Cloud-Optimized GeoTIFFs, thumbnails) are kept: a directory, or s3://bucket/prefix"
    " (with the GOV21_S3_* settings). Empty: the imagery directory under the data directory.",
)

LINKAGE_MAX_FILE_BYTES: Setting[int] = Setting(
    "GOV21_LINKAGE_MAX_FILE_BYTES",
    int,
    512 * 1024 * 1024,
    "The largest agency file (CSV, XLSX or Parquet) the record linkage imports, in bytes; a larger one is"
    " refused before it is read (split it, or raise this where the machine has the memory).",
)

OPENDATA_UPLOAD_MAX_BYTES: Setting[int] = Setting(
    "GOV21_OPENDATA_UPLOAD_MAX_BYTES",
    int,
    100 * 1024 * 1024,
    "Largest file, in bytes, a publisher may upload to the data portal; a larger upload is refused before it is read.",
)
OPENDATA_SQL_ROWS_MAX: Setting[int] = Setting(
    "GOV21_OPENDATA_SQL_ROWS_MAX",
    int,
    32000,
    "Most rows one datastore query (datastore_search_sql, datastore_search) returns; the rest is cut and said so.",
)
OPENDATA_SQL_TIMEOUT_S: Setting[int] = Setting(
    "GOV21_OPENDATA_SQL_TIMEOUT_S",
    int,
    10,
    "Seconds a datastore SQL query may run before it is stopped.",
)
OPENDATA_HARVEST_TIMEOUT_S: Setting[int] = Setting(
    "GOV21_OPENDATA_HARVEST_TIMEOUT_S",
    int,
    20,
    "Seconds the data portal waits for each answer of a harvest source (connecting and reading) before the"
    " harvest job stops with an error.",
)
OPENDATA_HARVEST_MAX_BYTES: Setting[int] = Setting(
    "GOV21_OPENDATA_HARVEST_MAX_BYTES",
    int,
    20 * 1024 * 1024,
    "Largest answer, in bytes, the data portal reads from a harvest source; a larger one stops the harvest job.",
)
OPENDATA_HARVEST_MAX_DATASETS: Setting[int] = Setting(
    "GOV21_OPENDATA_HARVEST_MAX_DATASETS",
    int,
    10_000,
    "Most datasets one harvest job takes from a source; a source offering more stops the job with an error.",
)
OPENDATA_HARVEST_LOOPBACK: Setting[bool] = Setting(
    "GOV21_OPENDATA_HARVEST_LOOPBACK",
    bool,
    False,
    "Let harvest sources be on this machine (loopback addresses), for tests and a partner node on the same"
    " host. Private, link-local and other non-public addresses are always refused.",
)

STATISTICS_BIRTHS_PER_1000: Setting[int] = Setting(
    "GOV21_STATISTICS_BIRTHS_PER_1000",
    int,
    13,
    "Births expected a year per 1,000 residents (the crude birth rate from the last census or survey): the"
    " statistics office measures the completeness of birth registration against it.",
)
STATISTICS_DEATHS_PER_1000: Setting[int] = Setting(
    "GOV21_STATISTICS_DEATHS_PER_1000",
    int,
    8,
    "Deaths expected a year per 1,000 residents (the crude death rate from the last census or survey): the"
    " statistics office measures the completeness of death registration against it.",
)
STATISTICS_RENEWAL_YEARS: Setting[int] = Setting(
    "GOV21_STATISTICS_RENEWAL_YEARS",
    int,
    10,
    "Years a licence or identity card held by adults aged 20-74 is valid: the statistics office forecasts"
    " renewals as that population divided by this.",
)

ALL: tuple[Setting[object], ...] = tuple(value for value in list(globals().values()) if isinstance(value, Setting))


def child_environment(**overrides: str) -> dict[str, str]:
    """The environment of a child process gov21 starts (a worker, a restore, pg_dump): this process's
    own, so the child reads the same settings, with ``overrides`` on top."""
    return {**os.environ, **overrides}


def render_markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "gov21 reads every setting from the environment. Each has a default that works on a laptop.",
        "This page is generated from `src/gov21/core/config.py` by `gov21 docs-config`; do not edit it by hand.",
        "",
        "| Variable | Type | Default | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for setting in ALL:
        default = setting.default
        shown = ",".join(str(v) for v in default) if isinstance(default, list) else str(default)
        lines.append(f"| `{setting.name}` | {setting.kind.__name__} | `{shown}` | {setting.doc} |")
    return "\n".join(lines) + "\n"

"""Structured logs: one JSON object per line (time, level, logger, message, request id), with the
personal data and secrets that tend to slip into messages taken out before a line is written.

A log line is read by more people, kept longer and copied to more places than the database it
describes, so it carries no UIN, email address, token or secret query parameter. The redaction is
a net under the code, not a licence to log personal data: names cannot be recognised by a pattern,
so code never puts them in a message."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger as _GunicornBaseLogger  # type: ignore[import-untyped]

REQUEST_ID_HEADER = "X-Request-Id"
# A request id we accept from a caller (a proxy or another agency's system) so that its logs and ours
# join up; anything else (too long, spaces, quotes, control characters) is replaced by our own.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("gov21_request_id", default="-")

# Parameters whose value is a secret or a one-time credential wherever it appears: in a query string,
# a form body or a "key=value" message.
SECRET_PARAMETERS = (
    "code",
    "code_verifier",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "id_token_hint",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "secret",
    "state",
    "nonce",
    "otp",
    "totp",
    "key",
    "sessionid",
    "csrftoken",
    "__host-gov21-session",
    "__host-gov21-csrf",
    "csrfmiddlewaretoken",
    "uin",
)
_PARAMETER = re.compile(r"(?i)(?<![\w-])(" + "|".join(SECRET_PARAMETERS) + r")(=|\"\s*:\s*\")([^&\s\"',;]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_API_TOKEN = re.compile(r"\bg21_[\w-]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A UIN is ten digits; so is any other ten-digit number, which is a small price for never writing one.
_UIN = re.compile(r"(?<!\d)\d{10}(?!\d)")


def redact(text: str) -> str:
    """The text with UIN-like numbers, email addresses, tokens and secret parameters replaced."""
    text = _PARAMETER.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _JWT.sub("[jwt]", text)
    text = _API_TOKEN.sub("[token]", text)
    text = _EMAIL.sub("[email]", text)
    return _UIN.sub("[uin]", text)


class RedactFilter(logging.Filter):
    """Replaces a record's message (and traceback) with its redacted text before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Extra structured fields travel in ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Django logs a failed response after the middleware has returned, with the request attached.
            "request_id": getattr(record, "request_id", None)
            or getattr(getattr(record, "request", None), "request_id", None)
            or request_id.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def request_id_from(header: str | None) -> str:
    """The caller's request id if it is a safe token, else a new one."""
    if header and SAFE_REQUEST_ID.fullmatch(header) and not _UIN.search(header):
        return header
    return secrets.token_hex(16)


class RequestIdMiddleware:
    """Gives every request an id, logs under it, and returns it in the ``X-Request-Id`` header so a
    citizen's support call, the proxy's log and ours point at the same request."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        value = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = value
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = value
        return response


class GunicornLogger(_GunicornBaseLogger):  # type: ignore[misc]
    """Gunicorn's error and access logs in the same JSON lines as the application's: the access line
    has the method, the path without its query string, the status, the duration and the request id."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(RedactFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        headers = {str(k).lower(): str(v) for k, v in (resp.headers or [])}
        method, path = str(environ.get("REQUEST_METHOD", "-")), str(environ.get("PATH_INFO", "-"))
        duration_ms = request_time.seconds * 1000 + request_time.microseconds // 1000
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": headers.get(REQUEST_ID_HEADER.lower(), "-"),
                "fields": {
                    "method": method,
                    "path": redact(path),
                    "status": int(status) if status.isdigit() else status,
                    "duration_ms": duration_ms,
                    "bytes": getattr(resp, "sent", None),
                },
            },
        )


def gunicorn_logging(*, access: bool) -> list[str]:
    """The logging arguments of every gunicorn gov21 starts."""
    args = ["--log-level", "warning", "--error-logfile", "-", "--logger-class", "gov21.core.logs.GunicornLogger"]
    return [*args, "--access-logfile", "-"] if access else args

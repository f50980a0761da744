"""Log lines are JSON with the request id, and personal data and secrets never reach them."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.test import Client

from gov21.core.logs import JsonFormatter, RedactFilter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("person 4837291056 registered", "person [uin] registered"),
        ("GET /office/registry/persons/4837291056/", "GET /office/registry/persons/[uin]/"),
        ("mail for ana.pérez+x@example.org failed", "mail for [email] failed"),
        ("/auth/callback?code=Zq8-x_1&state=abc123", "/auth/callback?code=[redacted]&state=[redacted]"),
        ('{"access_token": "abc.def", "ok": 1}', '{"access_token": "[redacted]", "ok": 1}'),
        ("Authorization: Bearer g21_AbCdEf", "Authorization: Bearer [redacted]"),
        ("token g21_live_secret leaked", "token [token] leaked"),
        ("id token eyJhbGciOi.eyJzdWIiOi.c2ln seen", "id token [jwt] seen"),
        ("password=hunter2 client_secret=s3cr3t", "password=[redacted] client_secret=[redacted]"),
        # Numbers of other lengths, and words that merely contain a parameter's name, are kept.
        ("took 12345 ms for 123456789012 rows; barcode=7", "took 12345 ms for 123456789012 rows; barcode=7"),
    ],
)
def test_redact_takes_out_uins_emails_tokens_and_secret_parameters(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_record_is_one_json_line_with_its_message_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("gov21.test_logs")
    logger.addHandler(handler)
    try:
        logger.warning("could not notify %s at %s", "4837291056", "someone@example.org")
        try:
            raise ValueError("uin 4837291056")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{"))
    assert first["message"] == "could not notify [uin] at [email]"
    assert first["level"] == "WARNING" and first["logger"] == "gov21.test_logs" and first["request_id"] == "-"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert "ValueError: uin [uin]" in second["exception"] and "4837291056" not in stream.getvalue()


@pytest.mark.django_db
def test_every_response_has_a_request_id_taken_from_the_caller_only_when_it_is_safe() -> None:
    client = Client()
    assert client.get("/healthz", headers={"X-Request-Id": "proxy-7f3a9c01"})["X-Request-Id"] == "proxy-7f3a9c01"
    for unsafe in ("", "short", "has spaces in it", "x" * 65, '"quoted"-0123456', "4837291056"):
        echoed = client.get("/healthz", headers={"X-Request-Id": unsafe})["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), unsafe
    assert client.get("/healthz")["X-Request-Id"] != client.get("/healthz")["X-Request-Id"]

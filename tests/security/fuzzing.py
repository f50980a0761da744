"""Property-based fuzzing of every OpenAPI document gov21 publishes, with schemathesis: the platform's
API (``/api/v1/``, through the real WSGI application) and each exchange service (through
``exchange_call``, signed and logged as any consumer's call).

What must hold for every generated request:

* no answer is a server error (5xx; on the exchange, no ``ServiceFailed`` or internal error);
* on the API, every error is RFC 9457 problem+json (``type``, ``title``, ``status``, ``detail``), and
  every documented answer conforms to its schema;
* on the exchange, every refusal of the exchange itself is X-Road's JSON error
  (``type``, ``message``, ``detail``) and every refusal of a provider is problem+json.

Failures are collected, not raised at the first: one run reports every operation that broke."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import response_schema_conformance
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup

from tests.identity.flows import _InProcessProvider

PROBLEM = "application/problem+json"
_PROBLEM_KEYS = {"type", "title", "status", "detail"}
_XROAD_KEYS = {"type", "message", "detail"}


@dataclass
class Report:
    """What one fuzz run found: per operation, the number of requests and the failures."""

    requests: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, request, problem)

    def add(self, label: str) -> None:
        self.requests[label] = self.requests.get(label, 0) + 1

    def fail(self, label: str, request: str, problem: str) -> None:
        if not any(f[0] == label and f[2] == problem for f in self.failures):
            self.failures.append((label, request, problem))

    def summary(self) -> str:
        lines = [f"{sum(self.requests.values())} requests over {len(self.requests)} operations"]
        lines += [f"FAIL {label}: {problem}\n     {request}" for label, request, problem in self.failures]
        return "\n".join(lines)


def _settings(cases: int) -> settings:
    return settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _run(strategy: Any, cases: int, body: Callable[[Any], None]) -> None:
    @_settings(cases)
    @given(case=strategy)
    def run(case: Any) -> None:
        body(case)

    run()


# --- the platform's API ---------------------------------------------------------------------------


def platform_schema() -> Any:
    """The API's OpenAPI document as the running application serves it, bound to that application."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _InProcessProvider())


def _problem_failure(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    headers = {str(k).lower(): v for k, v in response.headers.items()}
    content_type = headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not str(content_type).startswith(PROBLEM):
        return f"{response.status_code} answered as {content_type!r}, not {PROBLEM}"
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"{response.status_code} problem+json that is not JSON"
    missing = _PROBLEM_KEYS - set(body)
    return f"{response.status_code} problem without {sorted(missing)}" if missing else None


def fuzz_platform(schema: Any, *, headers: dict[str, str], cases: int, report: Report) -> None:
    """Every operation of the API, ``cases`` generated requests each, with these headers."""
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label

        def check(case: Any, label: str = label) -> None:
            report.add(label)
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the application raised out of WSGI: that is a 500 too
                report.fail(label, _curl(case), f"raised {type(exc).__name__}: {exc}")
                return
            if response.status_code >= 500:
                report.fail(label, _curl(case), f"{response.status_code}: {response.content[:300]!r}")
                return
            problem = _problem_failure(response)
            if problem:
                report.fail(label, _curl(case), problem)
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except (AssertionError, FailureGroup) as exc:
                report.fail(label, _curl(case), f"does not conform to the schema: {str(exc)[:300]}")

        _run(operation.as_strategy(), cases, check)


def _curl(case: Any) -> str:
    try:
        return str(case.as_curl_command())
    except Exception:  # describing the request must never hide the failure itself
        return f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"


# --- the exchange's services ----------------------------------------------------------------------


class _Crashes(logging.Handler):
    """The last lines of each traceback the exchange logs when a provider fails."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            lines = traceback.format_exception(*record.exc_info)
            self.into.append(" | ".join(line.strip() for line in lines[-3:]))


@contextmanager
def _crashes_logged(into: list[str]) -> Iterator[None]:
    handler = _Crashes(into)
    logger = logging.getLogger("gov21")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def exchange_schemas() -> dict[str, Any]:
    """Each service of the directory (``MEMBER/subsystem/service``) and its published document."""
    from gov21.exchange.models import Service

    schemas = {}
    for service in Service.objects.select_related("subsystem__member").order_by("pk"):
        if service.openapi and service.openapi.get("paths"):
            tail = f"{service.subsystem.member.code}/{service.subsystem.code}/{service.code}"
            schemas[tail] = schemathesis.openapi.from_dict(service.openapi)
    return schemas


def _exchange_failure(result: Any) -> str | None:
    if result.error:
        try:
            body = orjson.loads(result.body)
        except orjson.JSONDecodeError:
            return f"X-Road error {result.error} whose body is not JSON"
        if not set(body) >= _XROAD_KEYS:
            return f"X-Road error {result.error} without {sorted(_XROAD_KEYS - set(body))}"
        if result.error.endswith(("ServiceFailed", "InternalError")):
            return f"{result.error}: {body.get('message')}"
        return None
    if result.status >= 500:
        return f"the provider answered {result.status}: {result.body[:300]!r}"
    if result.status >= 400:
        content_type = result.headers.get("content-type", "")
        if not content_type.startswith(PROBLEM):
            return f"the provider refused with {result.status} as {content_type!r}, not {PROBLEM}"
    return None


def fuzz_exchange(
    schemas: dict[str, Any], *, instance: str, client_for: Callable[[str, str, str], str], cases: int, report: Report
) -> None:
    """Every operation of every exchange service, called by ``client_for(service, method, path)``."""
    from gov21.exchange.contracts import exchange_call

    crashes: list[str] = []
    for tail, schema in schemas.items():
        for result in schema.get_all_operations():
            operation = result.ok()
            client = client_for(tail, operation.method.upper(), operation.path)
            label = f"{tail} {operation.method.upper()} {operation.path} by {client}"

            def check(case: Any, tail: str = tail, client: str = client, label: str = label) -> None:
                report.add(label)
                has_body = case.media_type and not isinstance(case.body, NotSet)
                # The standard encoder: generated bodies hold integers beyond 64 bits, as any caller's may.
                body = json.dumps(case.body).encode() if has_body else b""
                query = "&".join(f"{k}={v}" for k, v in (case.query or {}).items())
                request = f"{case.method} {case.formatted_path}?{query} body={body[:2000]!r}"
                crashes.clear()
                try:
                    answer = exchange_call(
                        client=f"{instance}/GOV/{client}",
                        service=f"{instance}/GOV/{tail}",
                        path=case.formatted_path,
                        method=case.method.upper(),
                        query=query,
                        body=body,
                        content_type="application/json" if body else "",
                        issue="fuzzing",
                    )
                except Exception as exc:  # the exchange raised to its caller instead of answering
                    report.fail(label, request, f"raised {type(exc).__name__}: {traceback.format_exc()[-400:]}")
                    return
                problem = _exchange_failure(answer)
                if problem:
                    report.fail(label, request, problem + "".join(f"\n     {c}" for c in crashes))

            with _crashes_logged(crashes):
                _run(operation.as_strategy(), cases, check)

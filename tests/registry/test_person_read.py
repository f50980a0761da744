"""``registry/person_read.py``: the plain read of a person by UIN with an API token, answered before
the session and the API framework. What a caller sees must not change: the same status, bytes and
headers as the full stack gives, every read authorised and in the access log before it is answered."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from gov21.audit.contracts import access_log_verify
from gov21.audit.models import AccessRecord
from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.identity.services import token_create, token_revoke
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry/persons"
FAST = "gov21.registry.person_read.PersonReadMiddleware"
WITHOUT_FAST = [m for m in settings.MIDDLEWARE if m != FAST]
# Differs between any two answers, whichever path gave them.
VARYING = {"X-Request-Id"}


def _token(role: str = "reader") -> str:
    return token_create(name="reads", role=role, lifetime=timedelta(hours=1), created_by="test").token


def _both(path: str, **headers: str) -> tuple[object, object]:
    """The same request through this path and through the full stack without it."""
    fast = Client(headers=headers).get(path)
    with override_settings(MIDDLEWARE=WITHOUT_FAST):
        full = Client(headers=headers).get(path)
    return fast, full


def _same(fast: object, full: object) -> None:
    assert fast.status_code == full.status_code, (fast.content, full.content)  # type: ignore[attr-defined]
    assert fast.content == full.content  # type: ignore[attr-defined]
    strip = lambda r: {k: v for k, v in r.headers.items() if k not in VARYING}  # noqa: E731
    assert strip(fast) == strip(full)


def test_middleware_is_installed_after_the_admission_gate() -> None:
    # Behind the request id, the security headers, the content security policy and the gate.
    order = settings.MIDDLEWARE
    assert order.index(FAST) == order.index("gov21.core.capacity.AdmissionMiddleware") + 1


def test_read_answers_exactly_as_the_api_and_logs_each_read(registrar: Principal) -> None:
    mother = register_person(registrar, given="Marva", born=date(1950, 3, 1))
    person = register_person(registrar, given="Ruth Ann", family="Joseph", born=date(1980, 5, 2), mother=mother)
    token = _token()
    before = AccessRecord.objects.filter(subject=person.uin, action="person.read").count()

    fast, full = _both(f"{BASE}/{person.uin}", Authorization=f"Bearer {token}", **{"X-Purpose": "benefit claim"})

    _same(fast, full)
    assert fast.status_code == 200  # type: ignore[attr-defined]
    body = fast.json()  # type: ignore[attr-defined]
    assert (body["given_names"], body["mother_uin"]) == ("Ruth Ann", mother.uin)
    assert fast["Cache-Control"] == "private, no-store"  # type: ignore[index]
    assert "Content-Security-Policy" in fast.headers  # type: ignore[attr-defined]
    reads = AccessRecord.objects.filter(subject=person.uin, action="person.read").order_by("seq")
    assert reads.count() == before + 2
    assert {(r.actor, r.purpose) for r in reads} == {("token:reads", "benefit claim")}
    assert access_log_verify().ok


def test_read_costs_three_reads_and_one_append(registrar: Principal) -> None:
    person = register_person(registrar)
    client = Client(headers={"Authorization": f"Bearer {_token()}", "X-Purpose": "counted read"})
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{BASE}/{person.uin}").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    # The token, the person with the parents' UINs, and the log's append (head, insert, head, commit).
    assert len([s for s in statements if s.startswith("SELECT")]) == 3, statements
    assert any(s.startswith("INSERT INTO audit_accessrecord") for s in statements)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unknown", 404),
        ("check_digit", 422),
        ("no_purpose", 422),
        ("revoked", 401),
        ("not_bearer", 401),
    ],
)
def test_refusals_are_the_apis_problems_and_nothing_is_logged(registrar: Principal, case: str, status: int) -> None:
    person = register_person(registrar)
    uin = person.uin
    token = _token()
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "a refused read"}
    if case == "unknown":
        body = ("2" if uin[0] != "2" else "3") + uin[1:-1]
        uin = body + verhoeff_check_digit(body)
    elif case == "check_digit":
        uin = uin[:-1] + str((int(uin[-1]) + 1) % 10)
    elif case == "no_purpose":
        del headers["X-Purpose"]
    elif case == "revoked":
        issued = token_create(name="gone", role="reader", lifetime=timedelta(hours=1), created_by="test")
        token_revoke(token_id=issued.id)
        headers["Authorization"] = f"Bearer {issued.token}"
    elif case == "not_bearer":
        headers["Authorization"] = "Basic cmVhZGVyOnNlY3JldA=="
    logged = AccessRecord.objects.filter(action="person.read").count()

    fast, full = _both(f"{BASE}/{uin}", **headers)

    _same(fast, full)
    assert fast.status_code == status  # type: ignore[attr-defined]
    assert fast["Content-Type"] == "application/problem+json"  # type: ignore[index]
    assert AccessRecord.objects.filter(action="person.read").count() == logged


def test_problem_is_in_the_callers_language(registrar: Principal) -> None:
    person = register_person(registrar)
    headers = {"Authorization": f"Bearer {_token()}", "Accept-Language": "es"}
    fast, full = _both(f"{BASE}/{person.uin}", **headers)
    _same(fast, full)
    assert fast["Content-Language"] == "es"  # type: ignore[index]


def test_other_forms_of_the_request_go_to_the_api(registrar: Principal) -> None:
    person = register_person(registrar)
    client = Client(headers={"Authorization": f"Bearer {_token()}"})
    # A query string (a date, a purpose) is the API's to parse and check.
    response = client.get(f"{BASE}/{person.uin}?as_of=not-a-date&purpose=checking")
    assert response.status_code == 422
    assert response.json()["field"] == "as_of"
    assert client.get(f"{BASE}/{person.uin}?purpose=checking").status_code == 200
    assert client.post(f"{BASE}/{person.uin}").status_code == 405

"""Service definitions: every one shipped validates; a broken one is refused with the place of the
fault; versions are kept for the applications that use them."""

from __future__ import annotations

import copy
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gov21.core.errors import DomainError
from gov21.onestop import definitions, rules
from gov21.onestop.models import Application, ServiceDefinition

SHIPPED = sorted(definitions.DEFINITIONS_DIR.glob("*.yaml"))


def _one() -> dict:  # type: ignore[type-arg]
    return dict(definitions.definition_parse((definitions.DEFINITIONS_DIR / "change-of-address.yaml").read_text()))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_definition_passes_its_schema_and_its_rules_compile(path: Path) -> None:
    data = definitions.definition_parse(path.read_text(encoding="utf-8"), name=path.name)
    assert definitions.definition_check(data)["code"] == path.stem


def test_at_least_the_eight_services_are_shipped() -> None:
    codes = {p.stem for p in SHIPPED}
    assert {
        "declare-birth",
        "certificate-copy",
        "change-of-address",
        "renew-driving-licence",
        "register-business-name",
        "child-benefit",
        "report-death",
        "marriage-notice",
    } <= codes


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("owner"), "(top)"),
        (lambda d: d["questions"][0].update(type="telepathy"), "questions/0/type"),
        (lambda d: d["rules"][0].update(expr="person.status ==="), "rules.alive"),
        (lambda d: d["title"].update(de="Umzug"), "title"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "questions"),
        (lambda d: d.update(decision="whenever"), "decision"),
    ],
)
def test_a_broken_definition_is_refused_naming_where(change, where: str) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(_one())
    change(data)
    with pytest.raises(DomainError) as error:
        definitions.definition_check(data)
    assert error.value.code == "invalid_definition"
    assert where in error.value.detail, error.value.detail


def test_yaml_that_does_not_parse_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        definitions.definition_parse("code: [unclosed", name="x.yaml")
    assert "x.yaml" in error.value.detail


def test_rules_never_run_python() -> None:
    with pytest.raises(DomainError) as error:
        rules.compiled("__import__('os').system('true')")
    assert "__import__, system" in error.value.detail
    outcome = rules.check(
        {"id": "x", "expr": "person.age > 17", "pass": {"en": "ok"}, "fail": {"en": "no"}}, {"person": {}}
    )
    assert not outcome.passed and outcome.error


@pytest.mark.django_db
def test_a_version_in_use_is_kept_and_a_change_needs_a_new_version() -> None:
    data = _one()
    row, created = definitions.definition_save(definition=data, source="test", by="t")
    assert created and row.active
    Application.objects.create(
        reference="A-TEST0001",
        service=row,
        applicant_uin="2345678901",
        created_at=row.created_at,
        updated_at=row.created_at,
    )
    changed = copy.deepcopy(data)
    changed["sla_days"] = 9
    with pytest.raises(DomainError) as error:
        definitions.definition_save(definition=changed, source="test", by="t")
    assert error.value.code == "version_in_use"
    changed["version"] = 2
    newer, _ = definitions.definition_save(definition=changed, source="test", by="t")
    assert newer.active and not ServiceDefinition.objects.get(pk=row.pk).active
    assert Application.objects.get(reference="A-TEST0001").service.definition["sla_days"] == data["sla_days"]
    # Loading the older file again does not take over from the newer version.
    definitions.definition_save(definition=data, source="test", by="t")
    assert definitions.active(data["code"]).version == 2


@pytest.mark.django_db
def test_the_command_loads_checks_and_lists(tmp_path: Path) -> None:
    out = StringIO()
    call_command("services", "load", stdout=out)
    assert "renew-driving-licence v2: loaded" in out.getvalue()
    out = StringIO()
    call_command("services", "list", stdout=out)
    assert "declare-birth" in out.getvalue()
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: bad\n")
    with pytest.raises(CommandError):
        call_command("services", "check", str(bad))

"""The permission registry: the roles are the kernel's, each app grants its own permissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured

from gov21.core import permissions
from gov21.core.errors import Forbidden
from gov21.core.principal import Principal, PrincipalKind

_REGISTRAR = {"person.read", "person.correct", "event.declare", "event.read", "event.decide", "certificate.issue"}
_CASEWORK = {"case.read", "case.work"}
# The asset register and disaster response (decision 0051).
_ASSETS_READ = {"assets.read", "disaster.read"}
_ASSETS_FIELD = _ASSETS_READ | {"assets.write", "disaster.assess"}
# What each role could do before the apps granted their own permissions: the grants must not move.
# The land register's (gov21.land.apps): read titles, lodge transactions, check and register them.
_LAND_REGISTRAR = {"land.read", "land.lodge", "land.decide"}
# The reporting desk's (gov21.concerns.apps): work every agency's reported problems.
_CONCERNS = {"concerns.work"}

EXPECTED: dict[str, set[str]] = {
    "reader": {"person.read"} | _ASSETS_READ | {"land.read"},
    "clerk": {"person.read", "event.declare", "event.read"} | _ASSETS_FIELD | {"land.read", "land.lodge"},
    "registrar": _REGISTRAR | _CASEWORK | {"identity.activate"} | _LAND_REGISTRAR,
    "case_officer": {"person.read", "identity.activate"} | _CASEWORK | _ASSETS_READ | _CONCERNS,
    "supervisor": {"person.read", "event.read", "identity.activate", "case.assign"}
    | _CASEWORK
    | _ASSETS_FIELD
    | {"disaster.declare"}
    | {"land.read"}
    | _CONCERNS,
    "administrator": _REGISTRAR
    | _CASEWORK
    | _ASSETS_FIELD
    | {"identity.activate", "identity.clients", "exchange.admin", "case.assign", "services.admin", "continuity.read"}
    | {"disaster.declare"}
    | _LAND_REGISTRAR
    | _CONCERNS,
}
# The newer apps' grants, one line per app and role, so that each app's table reads on its own.
_GRANTED_BY_APP: tuple[tuple[str, str, set[str]], ...] = (
    # E-participation's (gov21.participation.apps): moderate, and answer for the agency that runs a process.
    ("participation", "clerk", {"participation.moderate"}),
    ("participation", "registrar", {"participation.moderate", "participation.answer"}),
    ("participation", "supervisor", {"participation.moderate"}),
    ("participation", "administrator", {"participation.moderate", "participation.answer"}),
    # The readiness assessment's (gov21.readiness.apps): answer a self-assessment; sign it off, open a survey.
    ("readiness", "clerk", {"readiness.assess"}),
    ("readiness", "registrar", {"readiness.assess"}),
    ("readiness", "case_officer", {"readiness.assess"}),
    ("readiness", "supervisor", {"readiness.assess", "readiness.review"}),
    ("readiness", "administrator", {"readiness.assess", "readiness.review"}),
    # The record linkage's (gov21.linkage.apps): read sources and quality, decide pairs in review.
    ("linkage", "registrar", {"linkage.read", "linkage.review"}),
    ("linkage", "supervisor", {"linkage.read"}),
    ("linkage", "administrator", {"linkage.read", "linkage.review"}),
    # The data portal's (gov21.opendata.apps): publish datasets in the back office and by API key.
    ("opendata", "registrar", {"opendata.publish"}),
    ("opendata", "administrator", {"opendata.publish"}),
    # The statistics office's (gov21.statistics.apps): open its back office.
    ("statistics", "reader", {"statistics.read"}),
    ("statistics", "supervisor", {"statistics.read"}),
    ("statistics", "administrator", {"statistics.read"}),
    # The disaster office's (gov21.assets.apps): the residents of an area by name, for a stated purpose.
    ("assets", "case_officer", {"disaster.residents"}),
    ("assets", "supervisor", {"disaster.residents"}),
    ("assets", "administrator", {"disaster.residents"}),
)
for _app, _role, _granted in _GRANTED_BY_APP:
    EXPECTED[_role] = EXPECTED[_role] | _granted


@pytest.fixture
def registry_restored() -> Iterator[None]:
    """Put back the registry's tables after a test that grants permissions of its own."""
    owners, grants = dict(permissions._OWNERS), dict(permissions._GRANTS)
    yield None
    permissions._OWNERS.clear()
    permissions._OWNERS.update(owners)
    permissions._GRANTS.clear()
    permissions._GRANTS.update(grants)


def test_the_installed_apps_grant_each_role_exactly_what_it_had() -> None:
    assert {role: set(granted) for role, granted in permissions.permissions_table().items()} == EXPECTED
    assert permissions.ROLES == ("reader", "clerk", "registrar", "case_officer", "supervisor", "administrator")


@pytest.mark.parametrize(
    ("app", "permission"),
    [
        ("registry", "person.read"),
        ("registry", "certificate.issue"),
        ("services", "case.assign"),
        ("services", "services.admin"),
        ("identity", "identity.clients"),
        ("exchange", "exchange.admin"),
        ("continuity", "continuity.read"),
        ("assets", "assets.write"),
        ("assets", "disaster.declare"),
        ("assets", "disaster.residents"),
        ("land", "land.decide"),
        ("participation", "participation.moderate"),
        ("participation", "participation.answer"),
        ("readiness", "readiness.review"),
        ("linkage", "linkage.review"),
        ("concerns", "concerns.work"),
        ("opendata", "opendata.publish"),
        ("statistics", "statistics.read"),
    ],
)
def test_each_permission_is_owned_by_the_app_that_checks_it(app: str, permission: str) -> None:
    assert permissions._OWNERS[permission] == app


def test_an_app_granting_the_same_table_again_changes_nothing(registry_restored: None) -> None:
    from gov21.registry.apps import PERMISSIONS

    permissions.permissions_grant(app="registry", grants=PERMISSIONS)
    assert {role: set(granted) for role, granted in permissions.permissions_table().items()} == EXPECTED


def test_a_role_the_kernel_does_not_know_is_refused(registry_restored: None) -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown roles: auditor"):
        permissions.permissions_grant(app="registry", grants={"auditor": {"person.audit"}})
    assert "person.audit" not in permissions._OWNERS


def test_a_permission_granted_by_two_apps_is_refused(registry_restored: None) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"'person\.read' is granted by both 'registry' and 'services'"):
        permissions.permissions_grant(app="services", grants={"reader": {"person.read"}})


def test_a_principal_asks_the_registry() -> None:
    staff = Principal(
        name="ana",
        kind=PrincipalKind.STAFF,
        roles=frozenset({"clerk", "case_officer"}),
        grants=frozenset({("clerk", "civil-registry"), ("case_officer", "licensing")}),
    )
    assert staff.can("event.declare") and staff.can("case.work") and not staff.can("event.decide")
    assert staff.agencies_where("case.work") == {"licensing"}
    assert staff.agencies_where("person.read") == {"civil-registry", "licensing"}
    with pytest.raises(Forbidden, match=r"event\.decide"):
        staff.require("event.decide")


def test_a_principal_of_no_known_kind_is_refused() -> None:
    assert Principal(name="t", kind="token", roles=frozenset()).kind is PrincipalKind.TOKEN  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'citizen' is not a valid PrincipalKind"):
        Principal(name="c", kind="citizen", roles=frozenset())  # type: ignore[arg-type]

"""Service definitions: data files validated against the published JSON Schema, loaded into
versioned rows. An application keeps the version it started with; loading a changed file makes a
new version and leaves the old one for the applications that use it."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import yaml
from django.db import transaction
from django.utils import timezone

from gov21.core.errors import DomainError, NotFound
from gov21.onestop import rules
from gov21.onestop.models import ServiceDefinition

logger = logging.getLogger(__name__)
DEFINITIONS_DIR = Path(__file__).parent / "definitions"
LANGUAGES = ("en", "es", "fr", "nl")

# Life events in the order the portal lists them, with their names in each language.
LIFE_EVENTS: dict[str, dict[str, str]] = {
    "having-a-baby": {"en": "Having a baby", "es": "Tener un bebé", "fr": "Avoir un bébé", "nl": "Een baby krijgen"},
    "family-and-benefits": {
        "en": "Family and benefits",
        "es": "Familia y prestaciones",
        "fr": "Famille et prestations",
        "nl": "Gezin en uitkeringen",
    },
    "getting-married": {"en": "Getting married", "es": "Casarse", "fr": "Se marier", "nl": "Trouwen"},
    "moving-home": {"en": "Moving home", "es": "Mudarse", "fr": "Déménager", "nl": "Verhuizen"},
    "driving": {"en": "Driving", "es": "Conducir", "fr": "Conduire", "nl": "Autorijden"},
    "starting-a-business": {
        "en": "Starting a business",
        "es": "Crear una empresa",
        "fr": "Créer une entreprise",
        "nl": "Een bedrijf starten",
    },
    "death-and-bereavement": {
        "en": "Death and bereavement",
        "es": "Fallecimiento y duelo",
        "fr": "Décès et deuil",
        "nl": "Overlijden en rouw",
    },
    "buying-and-selling-land": {
        "en": "Buying and selling land",
        "es": "Comprar y vender tierras",
        "fr": "Acheter et vendre un terrain",
        "nl": "Grond kopen en verkopen",
    },
    "certificates": {"en": "Certificates", "es": "Certificados", "fr": "Actes et certificats", "nl": "Aktes"},
}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("gov21.onestop").joinpath("data/service.schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def text(value: dict[str, str] | None, language: str) -> str:
    """A translated text of a definition, in the language asked for or else English."""
    if not value:
        return ""
    return value.get(language) or value.get("en", "")


def _expressions(definition: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for group in ("eligibility", "rules"):
        found += [(f"{group}.{r['id']}", r["expr"]) for r in definition.get(group, [])]
    for q in definition.get("questions", []):
        if q.get("when"):
            found.append((f"questions.{q['id']}.when", q["when"]))
        if q.get("verify"):
            found.append((f"questions.{q['id']}.verify", q["verify"]["expr"]))
        if q.get("answer_from"):
            found.append((f"questions.{q['id']}.answer_from", q["answer_from"]))
        if q.get("options_from"):
            found.append((f"questions.{q['id']}.options_from", q["options_from"]))
    return found


def definition_check(definition: Any) -> dict[str, Any]:
    """Validate a definition: the schema, then what a schema cannot say (unique ids, every
    expression parses). A DomainError names the first fault and where it is."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(definition), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise DomainError("invalid_definition", f"{where}: {first.message}", field=where)
    for group in ("questions", "rules", "eligibility", "prefill"):
        key = "name" if group == "prefill" else "id"
        ids = [item[key] for item in definition.get(group, [])]
        if len(ids) != len(set(ids)):
            raise DomainError("invalid_definition", f"{group}: an id is used twice", field=group)
    second = definition.get("second_party")
    if second and not any(q["id"] == second["question"] and q["type"] == "uin" for q in definition["questions"]):
        raise DomainError(
            "invalid_definition",
            "second_party: its question must be a uin question of the service",
            field="second_party",
        )
    for where, expr in _expressions(definition):
        try:
            rules.compiled(expr)
        except DomainError as error:
            raise DomainError("invalid_definition", f"{where}: {error.detail}", field=where) from error
    return dict(definition)


def _digest(definition: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()


@transaction.atomic
def definition_save(*, definition: dict[str, Any], source: str, by: str) -> tuple[ServiceDefinition, bool]:
    """Store a checked definition as the active version of its service; (row, created). The same
    content again changes nothing; a changed content with a version already used is refused."""
    definition = definition_check(definition)
    digest = _digest(definition)
    code, version = definition["code"], definition["version"]
    existing = ServiceDefinition.objects.select_for_update().filter(code=code, version=version).first()
    if existing is not None:
        if existing.digest != digest:
            if existing.applications.exists():
                raise DomainError(
                    "version_in_use",
                    f"{code} version {version} has applications; give the changed definition a new version.",
                    status=409,
                    field="version",
                )
            existing.definition, existing.digest, existing.source = definition, digest, source
            existing.save(update_fields=["definition", "digest", "source"])
        created = False
        row = existing
    else:
        row = ServiceDefinition.objects.create(
            code=code,
            version=version,
            definition=definition,
            digest=digest,
            source=source,
            created_at=timezone.now(),
            created_by=by,
        )
        created = True
    newest = ServiceDefinition.objects.filter(code=code).order_by("-version").first()
    ServiceDefinition.objects.filter(code=code).exclude(pk=row.pk).update(active=False)
    if newest is not None and newest.pk != row.pk:
        # An older version loaded again does not take over from a newer one.
        ServiceDefinition.objects.filter(pk=newest.pk).update(active=True)
        ServiceDefinition.objects.filter(pk=row.pk).update(active=False)
    else:
        ServiceDefinition.objects.filter(pk=row.pk).update(active=True)
    return row, created


def definition_parse(raw: str, *, name: str = "definition") -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise DomainError("invalid_definition", f"{name} is not valid YAML or JSON: {exc}") from exc


def definitions_load(*, directory: Path = DEFINITIONS_DIR, by: str = "gov21 setup") -> list[tuple[str, int, bool]]:
    """Load every definition file of a directory; (code, version, created) for each."""
    loaded = []
    for path in sorted(directory.glob("*.y*ml")) + sorted(directory.glob("*.json")):
        data = definition_parse(path.read_text(encoding="utf-8"), name=path.name)
        try:
            row, created = definition_save(definition=data, source=f"file:{path.name}", by=by)
        except DomainError as error:
            if error.code == "version_in_use":
                # A file changed without a new version: the version in use stays, so starting the
                # platform never fails on it; the operator sees why in the log and in `services load`.
                logger.warning("%s not loaded: %s", path.name, error.detail)
                continue
            raise DomainError(error.code, f"{path.name}: {error.detail}", status=error.status) from error
        loaded.append((row.code, row.version, created))
    return loaded


def active(code: str) -> ServiceDefinition:
    row = ServiceDefinition.objects.filter(code=code, active=True).first()
    if row is None:
        raise NotFound("service_not_found", f"There is no service {code!r}.", field="service")
    return row


def catalogue() -> list[ServiceDefinition]:
    return list(ServiceDefinition.objects.filter(active=True).order_by("code"))


def definition_dump(definition: dict[str, Any]) -> str:
    return str(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False, width=100))

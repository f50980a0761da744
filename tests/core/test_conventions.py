"""gov21's conventions that no off-the-shelf linter knows, checked on the syntax tree of ``src/``.

Each rule lists today's offenders by module with how many offences each has. Those lists may only
shrink: the test fails when a module offends more than listed (new code keeps the rule) and when it
offends less (the entry must be lowered or removed, so that what was fixed stays fixed).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# A finder yields the line of each offence in one module's tree.
Finder = Callable[[ast.Module], Iterator[int]]


def post_read_by_hand(tree: ast.Module) -> Iterator[int]:
    """``request.POST.get(...)`` and ``request.POST[...]``: a form (``gov21.core.forms``) reads input."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "get" and _is_post(node.value)) or (
            isinstance(node, ast.Subscript) and _is_post(node.value)
        ):
            yield node.lineno


def _is_post(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "POST"


def environment_touched(tree: ast.Module) -> Iterator[int]:
    """``os.environ``, ``os.getenv`` and their kin: every setting is declared in ``gov21.core.config``."""
    names = {"environ", "environb", "getenv", "putenv", "unsetenv"}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in names and _is_name(node.value, "os")) or (
            isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & names
        ):
            yield node.lineno


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def orm_reached(tree: ast.Module) -> Iterator[int]:
    """``Model.objects``: a page calls its app's selectors and services, never the ORM."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            yield node.lineno


def untyped_mapping(tree: ast.Module) -> Iterator[int]:
    """``dict[str, Any]``: what crosses between apps is a named, typed record."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and (_is_name(node.value, "dict") or _is_name(node.value, "Dict")):
            key_value = node.slice
            if isinstance(key_value, ast.Tuple) and len(key_value.elts) == 2:
                key, value = (ast.unparse(element) for element in key_value.elts)
                if key == "str" and value in {"Any", "typing.Any"}:
                    yield node.lineno


def models_imported(tree: ast.Module) -> Iterator[int]:
    """``from gov21.<app>.models import ...`` and ``from gov21.<app> import models``: a contract hands
    out records and ids, so no ORM model crosses to another app through it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            (node.module or "").split(".")[-1] == "models" or any(a.name == "models" for a in node.names)
        ):
            yield node.lineno


def _every_module(path: Path) -> bool:
    return True


def _page_module(path: Path) -> bool:
    name = path.name
    return name in {"office.py", "views.py"} or name.endswith(("_office.py", "_views.py"))


def _record_module(path: Path) -> bool:
    return path.name in {"contracts.py", "records.py"}


def _contract_module(path: Path) -> bool:
    return path.name == "contracts.py"


# Pages reading their input by hand instead of through a form: none may.
POST_BY_HAND_TODAY: dict[str, int] = {}

# Office and view modules querying the ORM instead of their app's selectors: none may.
ORM_IN_PAGES_TODAY: dict[str, int] = {}

# Contracts still handing out untyped mappings; each is being replaced by a record type.
UNTYPED_CONTRACTS_TODAY: dict[str, int] = {}

# Contracts importing ORM models (to re-export or to query): none may.
MODELS_IN_CONTRACTS_TODAY: dict[str, int] = {}

# Not a list to shrink: the modules that must touch the environment itself, and why. Every other
# module reads settings through gov21.core.config (and starts children with its child_environment).
ENVIRONMENT_USERS = frozenset(
    {
        # The declaration of every setting, and the one reader of the environment.
        "gov21/core/config.py",
        # Django reads its settings module's name only from the environment, before any setting exists.
        "gov21/cli.py",
        "gov21/wsgi.py",
        # Authlib allows plain HTTP on a laptop only when told so in the environment.
        "gov21/settings.py",
        # prometheus_client finds its multiprocess directory only in the environment.
        "gov21/core/monitoring.py",
    }
)

RULES: dict[str, tuple[Finder, Callable[[Path], bool], dict[str, int]]] = {
    "request.POST read by hand (use a form)": (post_read_by_hand, _every_module, POST_BY_HAND_TODAY),
    "the ORM reached from an office or view module (use a selector or service)": (
        orm_reached,
        _page_module,
        ORM_IN_PAGES_TODAY,
    ),
    "dict[str, Any] in a contract or record module (use a typed record)": (
        untyped_mapping,
        _record_module,
        UNTYPED_CONTRACTS_TODAY,
    ),
    "an ORM model imported by a contract (hand out records and ids)": (
        models_imported,
        _contract_module,
        MODELS_IN_CONTRACTS_TODAY,
    ),
}


def offences(finder: Finder, applies: Callable[[Path], bool]) -> dict[str, list[int]]:
    """The lines breaking a rule, by module (a path under ``src``); migrations are history, not code."""
    found: dict[str, list[int]] = {}
    for path in sorted((SRC / "gov21").rglob("*.py")):
        if "migrations" in path.parts or not applies(path):
            continue
        lines = list(finder(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
        if lines:
            found[path.relative_to(SRC).as_posix()] = lines
    return found


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_module_breaks_a_rule_beyond_its_listed_offences(rule: str) -> None:
    finder, applies, today = RULES[rule]
    found = offences(finder, applies)
    grown = {module: lines for module, lines in found.items() if len(lines) > today.get(module, 0)}
    assert not grown, f"{rule}: {grown} (module: lines)"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_lists_of_todays_offenders_only_shrink(rule: str) -> None:
    finder, applies, today = RULES[rule]
    counts = Counter({module: len(lines) for module, lines in offences(finder, applies).items()})
    fixed = {module: (listed, counts[module]) for module, listed in today.items() if counts[module] < listed}
    assert not fixed, f"{rule}: fixed, so lower or remove these entries (listed, found): {fixed}"


def test_only_the_listed_modules_touch_the_environment() -> None:
    found = offences(environment_touched, _every_module)
    outside = {module: lines for module, lines in found.items() if module not in ENVIRONMENT_USERS}
    assert not outside, f"read settings through gov21.core.config instead: {outside} (module: lines)"


@pytest.mark.parametrize(
    ("finder", "source", "lines"),
    [
        (post_read_by_hand, "a = request.POST.get('x')\nb = request.POST['y']\nc = form.cleaned_data['x']\n", [1, 2]),
        (environment_touched, "import os\nos.environ['A'] = '1'\nfrom os import getenv\nos.path.join('a')\n", [2, 3]),
        (orm_reached, "Person.objects.filter(uin=u)\nperson_get(uin=u)\n", [1]),
        (
            models_imported,
            "from gov21.a.models import A\nfrom gov21.a import models\nfrom gov21.a.records import M\n"
            "from gov21.models_x import B\nfrom . import models\n",
            [1, 2, 5],
        ),
        (untyped_mapping, "x: dict[str, Any]\ny: dict[str, int]\ndef f() -> Dict[str, typing.Any]: ...\n", [1, 3]),
    ],
)
def test_each_rule_finds_what_it_forbids_and_nothing_else(finder: Finder, source: str, lines: list[int]) -> None:
    assert sorted(finder(ast.parse(source))) == lines

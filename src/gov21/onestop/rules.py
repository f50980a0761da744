"""Rules of a service in the Common Expression Language (CEL): a small, side-effect-free language
that cannot loop forever, read files or call out, which is what lets an administrator edit rules as
data. Every rule carries the reason a person reads, whichever way it went."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import cel

from gov21.core.errors import DomainError


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: str
    passed: bool
    reason: dict[str, str]
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "reason": self.reason, "error": self.error}


# Operators are named with symbols (``_&&_``, ``!_``, ``@in``); a plain identifier is a function.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# CEL's named functions a rule may call (operators are written with symbols and always allowed).
FUNCTIONS = frozenset(
    {
        "size", "int", "uint", "double", "string", "bool", "bytes", "type", "timestamp", "duration",
        "startsWith", "endsWith", "contains", "matches", "in",
        "getFullYear", "getMonth", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
    }
)  # fmt: skip


@lru_cache(maxsize=1024)
def compiled(expr: str) -> Any:
    """The compiled program of an expression; a DomainError naming the fault if it does not parse
    or calls a function that is not part of CEL's standard library."""
    try:
        program = cel.compile(expr)
    except (ValueError, RuntimeError) as exc:
        raise DomainError("invalid_expression", f"The rule {expr!r} is not valid CEL: {exc}", field="expr") from exc
    unknown = sorted(
        f for f in program.references().get("functions", []) if _IDENTIFIER.fullmatch(f) and f not in FUNCTIONS
    )
    if unknown:
        raise DomainError(
            "invalid_expression", f"The rule {expr!r} calls unknown functions: {', '.join(unknown)}", field="expr"
        )
    return program


def evaluate(expr: str, context: dict[str, Any]) -> Any:
    return compiled(expr).execute(context)


def age_on(born: str | None, today: date) -> int | None:
    if not born:
        return None
    b = date.fromisoformat(born)
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def check(rule: dict[str, Any], context: dict[str, Any]) -> Outcome:
    """One rule against the context. A rule that cannot be evaluated (a fact the registry did not
    return, a type mismatch) does not pass: the application goes to a person, never through."""
    try:
        value = evaluate(rule["expr"], context)
    except Exception as exc:
        return Outcome(rule=rule["id"], passed=False, reason=rule["fail"], error=str(exc)[:200])
    if not isinstance(value, bool):
        return Outcome(rule=rule["id"], passed=False, reason=rule["fail"], error=f"gave {type(value).__name__}")
    return Outcome(rule=rule["id"], passed=value, reason=rule["pass"] if value else rule["fail"])


def check_all(rules: list[dict[str, Any]], context: dict[str, Any]) -> list[Outcome]:
    return [check(rule, context) for rule in rules]


def condition(expr: str | None, context: dict[str, Any]) -> bool:
    """A question's ``when``: shown when true. An expression that cannot be evaluated yet (it reads
    an answer not given) hides the question until it can."""
    if not expr:
        return True
    try:
        return evaluate(expr, context) is True
    except Exception:
        return False

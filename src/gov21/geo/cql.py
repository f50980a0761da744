"""CQL2 filters (OGC API Features Part 3, the Basic CQL2 class) for the geographic server: a filter
given as CQL2 text or CQL2 JSON is parsed by pygeofilter, then checked against the properties the
collection declares queryable and turned into gov21's own small, typed tree, which a collection
either evaluates on features in memory (``cql_matches``) or translates into a Django ``Q`` over its
model's fields (``cql_q``).

Basic CQL2: comparisons (``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``) between queryable properties
and string, number or boolean literals, ``IS [NOT] NULL``, and ``AND``, ``OR``, ``NOT``. A comparison
with a property that has no value is false, in memory as in the database; ``NOT`` turns it true.
Anything else (``LIKE``, ``IN``, spatial and temporal predicates, functions, arithmetic) is refused
with a message naming it, as are unknown properties and a literal of the wrong type.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from django.db.models import F, Q
from django.utils.translation import gettext as _

from gov21.core.geo import QueryValueError

Scalar = str | int | float | bool
Op = Literal["=", "<>", "<", "<=", ">", ">="]
PropertyKind = Literal["string", "integer", "number", "boolean"]
LANGUAGES = ("cql2-text", "cql2-json")
# A filter longer than this, or nested deeper, is not a person's or a GIS client's query.
MAX_LENGTH = 8_000
MAX_DEPTH = 40


@dataclass(frozen=True, slots=True)
class Prop:
    """A queryable property, by name."""

    name: str


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal: a string, a number or a boolean."""

    value: Scalar


Operand = Prop | Lit


@dataclass(frozen=True, slots=True)
class Compare:
    op: Op
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class IsNull:
    prop: Prop


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Filter


Filter = Compare | IsNull | And | Or | Not

_OPS: dict[str, Op] = {"EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def _refuse(detail: str) -> QueryValueError:
    return QueryValueError("filter", detail)


def cql_parse(text: str, lang: str | None, queryables: Mapping[str, PropertyKind]) -> Filter:
    """The checked filter ``text`` (in ``lang``: cql2-text, the default, or cql2-json) describes,
    over the properties ``queryables`` names with their types; a ``QueryValueError`` naming
    ``filter`` (or ``filter-lang``) and the problem otherwise."""
    lang = lang or "cql2-text"
    if lang not in LANGUAGES:
        raise QueryValueError(
            "filter-lang",
            _("filter-lang must be one of %(known)s, not %(given)s.")
            % {"known": ", ".join(LANGUAGES), "given": repr(lang)},
        )
    if len(text) > MAX_LENGTH:
        raise _refuse(_("The filter is longer than %(limit)s characters.") % {"limit": MAX_LENGTH})
    if not text.strip():
        raise _refuse(_("The filter is empty."))
    node = _read_json(text) if lang == "cql2-json" else _read_text(text)
    return _Checker(queryables).filter(node, 0)


# pygeofilter 0.4's CQL2 text grammar gives AND and OR the same precedence (so ``a OR b AND c`` would
# read as ``(a OR b) AND c``) and lets NOT apply to a single predicate only (``NOT (a OR b)`` is
# refused). CQL2 (OGC 21-065, booleanExpression) binds NOT tighter than AND, and AND tighter than OR:
# the parser below is pygeofilter's, with its grammar and transformer, and these rules replaced.
_PYGEOFILTER_CONDITION = """?condition: condition_1
          | condition "AND"i condition_1                                 -> and_
          | condition "OR"i condition_1                                   -> or_

?condition_1: predicate
            | "NOT"i predicate                                               -> not_
            | "NOT"i "(" predicate ")"                                       -> not_
            | "(" condition ")"
"""
_CQL2_CONDITION = """?condition: condition_and
          | condition "OR"i condition_and -> or_

?condition_and: condition_not
          | condition_and "AND"i condition_not -> and_

?condition_not: condition_1
          | "NOT"i condition_1 -> not_

?condition_1: predicate
            | "(" condition ")"
"""


@lru_cache(maxsize=1)
def _text_parser() -> Any:
    from importlib import resources

    import pygeofilter.parsers
    from lark import Lark
    from pygeofilter.parsers.cql2_text.parser import CQLTransformer

    grammar = resources.files("pygeofilter.parsers.cql2_text").joinpath("grammar.lark").read_text(encoding="utf-8")
    if _PYGEOFILTER_CONDITION not in grammar:
        raise RuntimeError("pygeofilter's CQL2 text grammar changed: check the precedence of AND, OR and NOT.")
    return Lark(
        grammar.replace(_PYGEOFILTER_CONDITION, _CQL2_CONDITION),
        parser="lalr",
        maybe_placeholders=False,
        transformer=CQLTransformer(),
        import_paths=[os.path.dirname(pygeofilter.parsers.__file__)],
    )


def _read_text(text: str) -> Any:
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return _text_parser().parse(text)
    except UnexpectedInput as error:
        column = getattr(error, "column", None)
        near = text[max(int(column or 1) - 1, 0) :][:20] if isinstance(column, int) and column > 0 else ""
        raise _refuse(
            _("The filter is not CQL2 text: it cannot be read at character %(column)s (%(near)s).")
            % {"column": column, "near": repr(near) if near else _("the end")}
        ) from None
    except (LarkError, RecursionError, ValueError, TypeError, LookupError, AttributeError) as error:
        # A literal pygeofilter's transformer cannot read (a date, a geometry) arrives as a VisitError.
        reason = getattr(error, "orig_exc", error)
        raise _refuse(_("The filter is not CQL2 text: %(reason)s.") % {"reason": str(reason)[:200]}) from None


def _read_json(text: str) -> Any:
    from pygeofilter.parsers.cql2_json import parse

    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _refuse(_("The filter is not JSON: %(reason)s.") % {"reason": str(error)[:200]}) from None
    try:
        return parse(data)
    except (RecursionError, ValueError, TypeError, LookupError, AttributeError) as error:
        raise _refuse(_("The filter is not CQL2 JSON: %(reason)s.") % {"reason": str(error)[:200]}) from None


class _Checker:
    def __init__(self, queryables: Mapping[str, PropertyKind]) -> None:
        self.queryables = queryables

    def filter(self, node: Any, depth: int) -> Filter:
        import pygeofilter.ast as ast

        if depth > MAX_DEPTH:
            raise _refuse(_("The filter is nested more than %(limit)s levels deep.") % {"limit": MAX_DEPTH})
        if isinstance(node, ast.And | ast.Or):
            items = (self.filter(node.lhs, depth + 1), self.filter(node.rhs, depth + 1))
            kind = And if isinstance(node, ast.And) else Or
            flat: list[Filter] = []
            for item in items:  # a AND b AND c arrives as ((a AND b) AND c)
                flat.extend(item.items if isinstance(item, And | Or) and isinstance(item, kind) else (item,))
            return kind(tuple(flat))
        if isinstance(node, ast.Not):
            return Not(self.filter(node.sub_node, depth + 1))
        if isinstance(node, ast.IsNull):
            operand = self.operand(node.lhs)
            if not isinstance(operand, Prop):
                raise _refuse(_("IS NULL applies to a property, not to a literal."))
            return Not(IsNull(operand)) if node.not_ else IsNull(operand)
        if isinstance(node, ast.Comparison) and node.op.name in _OPS:
            return self.compare(_OPS[node.op.name], self.operand(node.lhs), self.operand(node.rhs))
        raise _refuse(
            _(
                "%(what)s is not supported: a filter compares properties with =, <>, <, <=, >, >=, tests IS NULL,"
                " and joins conditions with AND, OR and NOT."
            )
            % {"what": _describe(node)}
        )

    def operand(self, node: Any) -> Operand:
        import pygeofilter.ast as ast

        if isinstance(node, ast.Attribute):
            if node.name not in self.queryables:
                raise _refuse(
                    _("%(name)s is not a queryable of this collection; its queryables are %(known)s.")
                    % {"name": repr(node.name), "known": ", ".join(sorted(self.queryables)) or _("none")}
                )
            return Prop(node.name)
        if isinstance(node, int) and not isinstance(node, bool) and not -(2**63) <= node < 2**63:
            # Databases hold whole numbers in 64 bits; a literal beyond them could not be compared there.
            raise _refuse(_("The number %(value)s is too large.") % {"value": node})
        if isinstance(node, bool | int | float | str) and not (isinstance(node, float) and node != node):
            return Lit(node)
        raise _refuse(
            _("%(what)s is not supported here: give a property name or a string, number or boolean literal.")
            % {"what": _describe(node)}
        )

    def kind(self, operand: Operand) -> str:
        if isinstance(operand, Prop):
            kind = self.queryables[operand.name]
            return "number" if kind == "integer" else kind
        value = operand.value
        if isinstance(value, bool):
            return "boolean"
        return "string" if isinstance(value, str) else "number"

    def compare(self, op: Op, left: Operand, right: Operand) -> Compare:
        left_kind, right_kind = self.kind(left), self.kind(right)
        if left_kind != right_kind:
            raise _refuse(
                _("%(left)s is a %(left_kind)s and %(right)s a %(right_kind)s: they cannot be compared.")
                % {
                    "left": _name(left),
                    "left_kind": _kind_word(left_kind),
                    "right": _name(right),
                    "right_kind": _kind_word(right_kind),
                }
            )
        if left_kind == "boolean" and op not in ("=", "<>"):
            raise _refuse(_("Booleans are compared with = and <> only, not %(op)s.") % {"op": op})
        return Compare(op, left, right)


def _describe(node: Any) -> str:
    import pygeofilter.ast as ast

    if isinstance(node, ast.Node):
        name = type(node).__name__
        return {"Like": "LIKE", "In": "IN", "Between": "BETWEEN", "Function": "A function"}.get(name, name)
    return type(node).__name__


def _name(operand: Operand) -> str:
    return operand.name if isinstance(operand, Prop) else repr(operand.value)


def _kind_word(kind: str) -> str:
    return {"string": _("string"), "number": _("number"), "boolean": _("boolean")}[kind]


# --- evaluation in memory ------------------------------------------------------------------------

_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def cql_matches(cql: Filter, properties: Mapping[str, Scalar | None]) -> bool:
    """Whether a feature with ``properties`` meets ``cql`` (a comparison with a missing value is false)."""
    if isinstance(cql, Compare):
        left, right = _value(cql.left, properties), _value(cql.right, properties)
        if left is None or right is None:
            return False
        return _COMPARE[cql.op](left, right)
    if isinstance(cql, IsNull):
        return properties.get(cql.prop.name) is None
    if isinstance(cql, And):
        return all(cql_matches(item, properties) for item in cql.items)
    if isinstance(cql, Or):
        return any(cql_matches(item, properties) for item in cql.items)
    return not cql_matches(cql.item, properties)


def _value(operand: Operand, properties: Mapping[str, Scalar | None]) -> Scalar | None:
    return properties.get(operand.name) if isinstance(operand, Prop) else operand.value


# --- translation to the database -----------------------------------------------------------------

_LOOKUP: dict[Op, str] = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIP: dict[Op, Op] = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def cql_q(cql: Filter, fields: Mapping[str, str]) -> Q:
    """``cql`` as a Django ``Q``, each property read from the model field ``fields`` maps it to (a
    lookup path such as ``"parish_code"`` or ``"owner__name"``). Means what ``cql_matches`` means:
    a comparison with a null is false, and its ``NOT`` is true."""
    if isinstance(cql, Compare):
        return _compare_q(cql, fields)
    if isinstance(cql, IsNull):
        return Q(**{f"{fields[cql.prop.name]}__isnull": True})
    if isinstance(cql, And | Or):
        combined = Q() if isinstance(cql, And) else Q(pk__in=[])
        for item in cql.items:
            combined = (combined & cql_q(item, fields)) if isinstance(cql, And) else (combined | cql_q(item, fields))
        return combined
    return ~cql_q(cql.item, fields)


def _compare_q(cql: Compare, fields: Mapping[str, str]) -> Q:
    op, left, right = cql.op, cql.left, cql.right
    if isinstance(left, Lit) and isinstance(right, Lit):
        return Q() if _COMPARE[op](left.value, right.value) else Q(pk__in=[])
    if isinstance(left, Lit):
        op, left, right = _FLIP[op], right, left
    assert isinstance(left, Prop)
    field = fields[left.name]
    value: Any = F(fields[right.name]) if isinstance(right, Prop) else right.value
    not_null = Q(**{f"{field}__isnull": False})
    if isinstance(right, Prop):
        not_null &= Q(**{f"{fields[right.name]}__isnull": False})
    if op == "<>":
        return ~Q(**{field: value}) & not_null
    return Q(**{f"{field}__{_LOOKUP[op]}": value}) & not_null

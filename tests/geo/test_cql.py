"""CQL2 filters checked into gov21's typed tree, evaluated in memory (``cql_matches``) and translated
into a Django ``Q`` (``cql_q``): the two must select the same rows, nulls included, which a
throwaway table shows on the test's database for random filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gov21.core.geo import QueryValueError
from gov21.geo.contracts import Query, cql_matches, cql_q
from gov21.geo.cql import And, Compare, Filter, IsNull, Lit, Not, Or, Prop, cql_parse

QUERYABLES: dict[str, Any] = {"label": "string", "rank": "integer", "size": "number", "open": "boolean"}


def test_cql2_text_becomes_a_typed_tree() -> None:
    tree = cql_parse("label = 'a' AND rank > 2 AND NOT (size <= 1.5 OR open = TRUE)", None, QUERYABLES)
    assert tree == And(
        (
            Compare("=", Prop("label"), Lit("a")),
            Compare(">", Prop("rank"), Lit(2)),
            Not(Or((Compare("<=", Prop("size"), Lit(1.5)), Compare("=", Prop("open"), Lit(True))))),
        )
    )
    assert cql_parse("label IS NOT NULL", "cql2-text", QUERYABLES) == Not(IsNull(Prop("label")))
    assert cql_parse("3 < rank", None, QUERYABLES) == Compare("<", Lit(3), Prop("rank"))
    assert cql_parse("rank = size", None, QUERYABLES) == Compare("=", Prop("rank"), Prop("size"))
    json_tree = cql_parse('{"op": "<>", "args": [{"property": "label"}, "x"]}', "cql2-json", QUERYABLES)
    assert json_tree == Compare("<>", Prop("label"), Lit("x"))
    assert Query(limit=1).cql is None  # a Query without a filter is as before


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("open < TRUE", "compared with = and <> only"),
        ("label = rank", "label is a string and rank a number"),
        ("colour = 'red'", "'colour' is not a queryable"),
        ("label BETWEEN 'a' AND 'b'", "BETWEEN is not supported"),
    ],
)
def test_a_filter_that_does_not_fit_the_queryables_is_refused(text: str, words: str) -> None:
    with pytest.raises(QueryValueError) as caught:
        cql_parse(text, None, QUERYABLES)
    assert caught.value.field == "filter" and words in caught.value.detail


def test_in_memory_a_comparison_with_a_missing_value_is_false_and_its_negation_true() -> None:
    tree = cql_parse("size > 1", None, QUERYABLES)
    assert cql_matches(tree, {"size": 2.0}) and not cql_matches(tree, {"size": 0.5})
    assert not cql_matches(tree, {"size": None}) and not cql_matches(tree, {})
    assert cql_matches(cql_parse("NOT size > 1", None, QUERYABLES), {"size": None})
    assert not cql_matches(cql_parse("size <> 1", None, QUERYABLES), {"size": None})
    assert cql_matches(cql_parse("1 = 1 AND 'a' < 'b'", None, QUERYABLES), {})


# --- the translation to the database, against the evaluation in memory ------------------------------

_APPS = Apps()


class Thing(models.Model):  # noqa: DJ008 - a table for this test only
    label = models.CharField(max_length=10, null=True)  # noqa: DJ001 - a missing string is what it tests
    rank = models.IntegerField(null=True)
    size = models.FloatField(null=True)
    open = models.BooleanField(null=True)

    class Meta:
        app_label = "cql_test"
        db_table = "cql_test_thing"
        apps = _APPS


FIELDS = {"label": "label", "rank": "rank", "size": "size", "open": "open"}
LABELS = ["a", "b", "c", "ab"]
ROWS = [
    {"label": label, "rank": rank, "size": size, "open": open_}
    for label, rank, size, open_ in [
        ("a", 1, 0.5, True),
        ("b", 2, 1.5, False),
        ("c", 3, 2.5, None),
        (None, 2, None, True),
        ("ab", None, 1.0, False),
        ("b", 0, 0.0, None),
        (None, None, None, None),
    ]
]


@pytest.fixture
def things(django_db_blocker: Any, transactional_db: None) -> Iterator[dict[int, dict[str, Any]]]:
    with connection.schema_editor() as editor:
        editor.create_model(Thing)
    made = {Thing.objects.create(**row).pk: row for row in ROWS}
    yield made
    with connection.schema_editor() as editor:
        editor.delete_model(Thing)


_OPS = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
_literal_for = {
    "label": st.sampled_from(LABELS),
    "rank": st.integers(-1, 4),
    "size": st.sampled_from([0.0, 0.5, 1.0, 1.5, 3.0]),
    "open": st.booleans(),
}


@st.composite
def _comparison(draw: st.DrawFn) -> Filter:
    name = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(["=", "<>"])) if name == "open" else draw(_OPS)
    other = Prop("size") if name == "rank" and draw(st.booleans()) else Lit(draw(_literal_for[name]))
    left, right = (Prop(name), other) if draw(st.booleans()) else (other, Prop(name))
    return Compare(op, left, right)


_leaf = st.one_of(_comparison(), st.sampled_from(sorted(FIELDS)).map(lambda name: IsNull(Prop(name))))
_filters = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
        inner.map(Not),
    ),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_filters)
def test_the_database_selects_what_the_memory_selects(things: dict[int, dict[str, Any]], tree: Filter) -> None:
    in_memory = {pk for pk, row in things.items() if cql_matches(tree, row)}
    in_database = set(Thing.objects.filter(cql_q(tree, FIELDS)).values_list("pk", flat=True))
    assert in_database == in_memory, tree


def test_a_text_filter_reaches_the_database_through_a_field_map(things: dict[int, dict[str, Any]]) -> None:
    tree = cql_parse("label >= 'b' OR (rank IS NULL AND NOT open = TRUE)", None, QUERYABLES)
    found = set(Thing.objects.filter(cql_q(tree, FIELDS)).values_list("label", flat=True))
    assert found == {"b", "c", "ab", None}


def test_and_binds_tighter_than_or_and_not_applies_to_a_parenthesised_condition() -> None:
    # CQL2's precedence, which pygeofilter's own grammar does not follow.
    a, b, c = (Compare("=", Prop(name), Lit(1)) for name in ("rank", "size", "rank"))
    c = Compare("=", Prop("size"), Lit(2))
    assert cql_parse("rank = 1 OR size = 1 AND size = 2", None, QUERYABLES) == Or((a, And((b, c))))
    assert cql_parse("(rank = 1 OR size = 1) AND size = 2", None, QUERYABLES) == And((Or((a, b)), c))
    assert cql_parse("NOT (rank = 1 OR size = 1)", None, QUERYABLES) == Not(Or((a, b)))
    assert cql_parse("NOT rank = 1 AND size = 2", None, QUERYABLES) == And((Not(a), c))

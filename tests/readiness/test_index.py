from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gov21.core.errors import DomainError
from gov21.readiness.index import (
    DEFAULT_PATH,
    competition_ranks,
    impute,
    index_compute,
    methodology_load,
    methodology_parse,
    normalise,
    pca_weights,
)

SHIPPED = DEFAULT_PATH.read_text()


def test_the_shipped_methodology_loads() -> None:
    m = methodology_load()
    assert m.pillars == (
        "citizen-centric",
        "participatory",
        "inter-connected",
        "capable",
        "seamless",
        "resilient",
        "open",
        "secure",
    )
    assert sum(m.expert_weights.values()) == pytest.approx(1)
    assert len(m.digest) == 64


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("capable: 0.15\n", "capable: 0.25\n", "weights.expert", "sum to one; these sum to 1.1"),
        ("    capable: 0.15\n", "", "weights.expert", "name each pillar once"),
        ("reference: geometric", "reference: harmonic", "choices.aggregation", "not a known aggregation"),
        ("draws: 2000", "draws: 0", "draws", "Draws must be"),
        ("weight_noise: 0.25", "weight_noise: 1.5", "weight_noise", "weight noise"),
    ],
)
def test_a_faulty_methodology_is_refused_with_its_fault_named(old: str, new: str, field: str, message: str) -> None:
    text = SHIPPED.replace("reference: arithmetic", "reference: geometric") if "geometric" in old else SHIPPED
    assert old in text
    with pytest.raises(DomainError) as raised:
        methodology_parse(text.replace(old, new, 1))
    assert raised.value.code == "methodology_invalid"
    assert raised.value.field == field
    assert message in raised.value.detail


def test_imputation_fills_each_indicator_from_the_countries_that_have_it() -> None:
    data = np.array([[1.0, np.nan], [3.0, 2.0], [np.nan, 4.0], [8.0, 9.0]])
    assert impute(data, "mean")[2, 0] == pytest.approx(4.0)
    assert impute(data, "median")[2, 0] == pytest.approx(3.0)
    assert impute(data, "minimum")[0, 1] == pytest.approx(2.0)


def test_normalisations() -> None:
    data = np.array([[1.0], [2.0], [2.0], [5.0]])
    assert normalise(data, "min-max")[:, 0].tolist() == pytest.approx([0, 0.25, 0.25, 1])
    z = normalise(data, "z-score")[:, 0]
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)
    # Equal values share their mean rank.
    assert normalise(data, "rank")[:, 0].tolist() == pytest.approx([0, 0.5, 0.5, 1])


def test_ranks_and_pca_weights() -> None:
    assert competition_ranks(np.array([0.3, 0.9, 0.3, 0.1])).tolist() == [2, 1, 2, 4]
    rng = np.random.default_rng(0)
    base = rng.normal(size=200)
    # Two pillars that move together and one that is noise: the first component weighs the pair.
    pillars = np.column_stack([base, base + rng.normal(scale=0.1, size=200), rng.normal(size=200)])
    w = pca_weights(pillars)
    assert w.sum() == pytest.approx(1)
    assert w[0] > 0.4 and w[1] > 0.4 and w[2] < 0.1


def _world(
    n: int = 30, k: int = len(methodology_load().indicators), seed: int = 3
) -> tuple[np.ndarray, tuple[str, ...]]:
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, k)), tuple(f"C{i:02d}" for i in range(n))


def test_a_country_best_on_every_indicator_is_first_in_every_draw() -> None:
    data, codes = _world()
    data[7] = 1.0
    result = index_compute(data, codes, methodology_load())
    assert result.rank["C07"] == 1 and result.rank_low["C07"] == 1 and result.rank_high["C07"] == 1


def test_the_interval_holds_the_reference_rank_and_the_analysis_is_reproducible() -> None:
    data, codes = _world()
    m = methodology_load()
    one, two = index_compute(data, codes, m), index_compute(data, codes, m)
    assert one.rank_low == two.rank_low and one.rank_high == two.rank_high and one.sensitivity == two.sensitivity
    assert any(one.rank_high[c] > one.rank_low[c] for c in codes)
    for c in codes:
        assert one.rank_low[c] <= one.rank_median[c] <= one.rank_high[c]
    assert set(one.sensitivity) == {"normalisation", "weighting", "aggregation", "imputation"}
    # A different seed draws differently.
    other = methodology_parse(SHIPPED.replace("seed: 2126", "seed: 7"))
    assert index_compute(data, codes, other).sensitivity != one.sensitivity


def test_a_choice_with_one_option_moves_nothing() -> None:
    data, codes = _world()
    fixed = SHIPPED.replace("alternatives: [min-max, z-score, rank]", "alternatives: [min-max]")
    result = index_compute(data, codes, methodology_parse(fixed))
    assert result.sensitivity["normalisation"] == 0
    assert result.sensitivity["weighting"] > 0


def test_ranks_within_a_group_count_only_its_members() -> None:
    data, codes = _world()
    group = ("C03", "C11", "C20")
    result = index_compute(data, codes, methodology_load(), ranked=group)
    assert sorted(result.rank.values()) == [1, 2, 3]
    assert max(result.rank_high.values()) <= 3
    best = max(group, key=lambda c: result.scores[c])
    assert result.rank[best] == 1


def test_missing_values_are_imputed_not_fatal(tmp_path: Path) -> None:
    data, codes = _world()
    data[4, 2] = np.nan
    result = index_compute(data, codes, methodology_load())
    assert not np.isnan(result.scores["C04"])


def test_a_pillar_on_which_everyone_scores_the_same_gets_no_statistical_weight() -> None:
    rng = np.random.default_rng(1)
    pillars = np.column_stack([rng.uniform(size=50), rng.uniform(size=50), np.full(50, 0.4)])
    w = pca_weights(pillars)
    assert w[2] == 0 and w.sum() == pytest.approx(1)
    assert pca_weights(np.column_stack([np.full(9, 0.5), np.full(9, 0.2)])).tolist() == [0.5, 0.5]

"""The composite index and its uncertainty, as the OECD/JRC *Handbook on Constructing Composite
Indicators* lays it out: impute missing values, normalise each indicator, average indicators into
pillars, weight and aggregate pillars into the index; then a Monte Carlo over the other reasonable
choices gives each country a median rank and a 90 % rank interval, and a first-order sensitivity
index per choice says which one moves ranks most. Pure numpy: no database, no Django."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from gov21.core.errors import DomainError

Matrix = npt.NDArray[np.float64]

NORMALISATIONS = ("min-max", "z-score", "rank")
WEIGHTINGS = ("equal", "expert", "pca")
AGGREGATIONS = ("arithmetic", "geometric")
IMPUTATIONS = ("mean", "median", "minimum")
FACTORS: dict[str, tuple[str, ...]] = {
    "normalisation": NORMALISATIONS,
    "weighting": WEIGHTINGS,
    "aggregation": AGGREGATIONS,
    "imputation": IMPUTATIONS,
}
# Geometric means need positive values: normalised pillars are carried into [FLOOR, 1] first.
FLOOR = 0.01
DEFAULT_PATH = Path(__file__).parent / "data" / "methodology.yaml"


@dataclass(frozen=True)
class Indicator:
    code: str
    source: str
    pillar: str
    label: str
    # "higher": more is better; "lower": less is better (a time, a loss), turned round before normalising.
    direction: str = "higher"


@dataclass(frozen=True)
class Choice:
    reference: str
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class Methodology:
    version: str
    name: str
    draws: int
    seed: int
    indicators: tuple[Indicator, ...]
    expert_weights: dict[str, float]
    choices: dict[str, Choice]
    weight_noise: float
    digest: str

    @property
    def pillars(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.pillar for i in self.indicators))


def _invalid(detail: str, field: str) -> DomainError:
    return DomainError("methodology_invalid", detail, field=field, title="The methodology file is not valid")


def methodology_parse(text: str) -> Methodology:
    """The methodology declared in ``text`` (YAML), checked whole: a file with any fault is refused
    with the first fault named, never half used."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _invalid(f"The methodology file is not YAML: {error}", "") from error
    if not isinstance(raw, dict):
        raise _invalid("The methodology file must be a mapping.", "")
    for key in ("version", "indicators", "weights", "choices"):
        if key not in raw:
            raise _invalid(f"The methodology file has no '{key}'.", key)
    indicators: list[Indicator] = []
    for n, item in enumerate(raw["indicators"] or []):
        if not isinstance(item, dict) or not {"code", "source", "pillar"} <= set(item):
            raise _invalid(f"Indicator {n + 1} needs a code, a source and a pillar.", f"indicators.{n}")
        direction = str(item.get("direction", "higher"))
        if direction not in {"higher", "lower"}:
            raise _invalid(f"Indicator {n + 1}'s direction must be higher or lower.", f"indicators.{n}.direction")
        indicators.append(
            Indicator(
                str(item["code"]), str(item["source"]), str(item["pillar"]), str(item.get("label", "")), direction
            )
        )
    if not indicators:
        raise _invalid("The methodology file declares no indicators.", "indicators")
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise _invalid("Each indicator's code must be declared once.", "indicators")
    pillars = list(dict.fromkeys(i.pillar for i in indicators))
    expert_raw = (raw["weights"] or {}).get("expert") or {}
    try:
        expert = {str(k): float(v) for k, v in expert_raw.items()}
    except (TypeError, ValueError) as error:
        raise _invalid("Expert weights must be numbers.", "weights.expert") from error
    if set(expert) != set(pillars):
        raise _invalid(
            "Expert weights must name each pillar once: " + ", ".join(pillars) + ".",
            "weights.expert",
        )
    if any(w < 0 for w in expert.values()):
        raise _invalid("Expert weights cannot be negative.", "weights.expert")
    total = sum(expert.values())
    if abs(total - 1.0) > 1e-9:
        raise _invalid(f"Expert weights must sum to one; these sum to {total:g}.", "weights.expert")
    choices: dict[str, Choice] = {}
    for factor, options in FACTORS.items():
        given = (raw["choices"] or {}).get(factor)
        if not isinstance(given, dict) or "reference" not in given:
            raise _invalid(f"The choice of {factor} needs a reference.", f"choices.{factor}")
        alternatives = tuple(str(a) for a in given.get("alternatives") or [given["reference"]])
        for option in (given["reference"], *alternatives):
            if option not in options:
                raise _invalid(
                    f"'{option}' is not a known {factor}; choose from {', '.join(options)}.", f"choices.{factor}"
                )
        choices[factor] = Choice(str(given["reference"]), alternatives)
    draws, seed, noise = raw.get("draws", 1000), raw.get("seed", 0), raw.get("weight_noise", 0.0)
    if not isinstance(draws, int) or not 1 <= draws <= 1_000_000:
        raise _invalid("Draws must be a whole number from 1 to 1,000,000.", "draws")
    if not isinstance(seed, int) or seed < 0:
        raise _invalid("The seed must be a whole number, zero or more.", "seed")
    if not isinstance(noise, int | float) or not 0 <= noise < 1:
        raise _invalid("The weight noise must be at least 0 and below 1.", "weight_noise")
    return Methodology(
        version=str(raw["version"]),
        name=str(raw.get("name", "")),
        draws=draws,
        seed=seed,
        indicators=tuple(indicators),
        expert_weights=expert,
        choices=choices,
        weight_noise=float(noise),
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def methodology_load(path: Path = DEFAULT_PATH) -> Methodology:
    return methodology_parse(path.read_text(encoding="utf-8"))


# --- the steps ---------------------------------------------------------------------------------------


def impute(data: Matrix, how: str) -> Matrix:
    """Missing values (NaN) replaced per indicator by its mean, median or minimum over the countries
    that have it; an indicator no country has stays missing (and is left out of its pillar)."""
    out = data.copy()
    for j in range(out.shape[1]):
        column = out[:, j]
        known = column[~np.isnan(column)]
        if known.size == 0 or known.size == column.size:
            continue
        fill = float(np.mean(known) if how == "mean" else np.median(known) if how == "median" else np.min(known))
        column[np.isnan(column)] = fill
    return out


def normalise(data: Matrix, how: str) -> Matrix:
    """Each indicator (column) made comparable: min-max into [0, 1], z-scores (as the EGDI's
    components are built), or ranks scaled into [0, 1] (ties share their mean rank)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "min-max":
            low, high = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
            span = np.where(high > low, high - low, 1.0)
            return np.asarray((data - low) / span, dtype=np.float64)
        if how == "z-score":
            mean, sd = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
            return np.asarray((data - mean) / np.where(sd > 0, sd, 1.0), dtype=np.float64)
    if how == "rank":
        out = np.full_like(data, np.nan)
        for j in range(data.shape[1]):
            column = data[:, j]
            known = ~np.isnan(column)
            n = int(known.sum())
            if n == 0:
                continue
            values = column[known]
            order = np.argsort(values, kind="stable")
            ranks = np.empty(n)
            ranks[order] = np.arange(n, dtype=np.float64)
            # Ties share their mean rank, so equal values score equally.
            _, inverse = np.unique(values, return_inverse=True)
            sums = np.bincount(inverse, weights=ranks)
            counts = np.bincount(inverse)
            ranks = (sums / counts)[inverse]
            out[known, j] = ranks / max(n - 1, 1)
        return out
    raise ValueError(how)


def pillars_of(normalised: Matrix, methodology: Methodology) -> Matrix:
    """Each pillar the mean of its indicators, carried into [FLOOR, 1] so that any aggregation applies."""
    columns = []
    for pillar in methodology.pillars:
        idx = [j for j, i in enumerate(methodology.indicators) if i.pillar == pillar]
        with np.errstate(invalid="ignore"):
            columns.append(np.nanmean(normalised[:, idx], axis=1) if idx else np.zeros(normalised.shape[0]))
    pillars = np.column_stack(columns)
    low, high = np.nanmin(pillars, axis=0), np.nanmax(pillars, axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.asarray(FLOOR + (1 - FLOOR) * (pillars - low) / span, dtype=np.float64)


def pca_weights(pillars: Matrix) -> Matrix:
    """Statistical weights: each pillar's squared loading on the first principal component of the
    standardised pillars (the handbook's factor-analysis weights with one factor), summing to one. A
    pillar on which every country scores the same tells countries apart not at all: weight 0."""
    count = pillars.shape[1]
    sd = pillars.std(axis=0)
    varying = sd > 1e-12
    if varying.sum() < 2:
        return varying / varying.sum() if varying.any() else np.full(count, 1 / count)
    z = (pillars[:, varying] - pillars[:, varying].mean(axis=0)) / sd[varying]
    _, vectors = np.linalg.eigh(np.corrcoef(z, rowvar=False))
    weights = np.zeros(count)
    weights[varying] = np.nan_to_num(vectors[:, -1]) ** 2
    total = weights.sum()
    return weights / total if total > 0 else np.full(count, 1 / count)


def weights_for(how: str, pillars: Matrix, methodology: Methodology) -> Matrix:
    if how == "equal":
        return np.full(pillars.shape[1], 1 / pillars.shape[1])
    if how == "expert":
        return np.array([methodology.expert_weights[p] for p in methodology.pillars])
    return pca_weights(pillars)


def aggregate(pillars: Matrix, weights: Matrix, how: str) -> Matrix:
    """Index scores for each column of ``weights`` (pillars × draws): weighted arithmetic or geometric means."""
    if how == "arithmetic":
        return np.asarray(pillars @ weights, dtype=np.float64)
    return np.asarray(np.exp(np.log(pillars) @ weights), dtype=np.float64)


def competition_ranks(scores: Matrix) -> Matrix:
    """1 for the best; equal scores share a rank (1, 2, 2, 4)."""
    return np.asarray(1 + (scores[None, :] > scores[:, None]).sum(axis=1), dtype=np.float64)


# --- the index and its uncertainty -------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The index over ``countries``: the reference scores and pillar profiles (over every country
    given), and for the countries ranked, the reference rank, median rank and 90 % interval."""

    countries: tuple[str, ...]
    ranked: tuple[str, ...]
    scores: dict[str, float]
    pillars: dict[str, dict[str, float]]
    rank: dict[str, int]
    rank_median: dict[str, float]
    rank_low: dict[str, int]
    rank_high: dict[str, int]
    # factor -> mean over ranked countries of Var(E[rank | option]) / Var(rank)
    sensitivity: dict[str, float]
    # factor -> option -> mean absolute shift of rank from the reference rank
    shifts: dict[str, dict[str, float]]
    draws: int


def index_compute(
    data: Matrix, countries: tuple[str, ...], methodology: Methodology, *, ranked: tuple[str, ...] | None = None
) -> Result:
    """The index of ``countries`` (rows of ``data``, one column per indicator, NaN where missing),
    normalised over all of them; ranks are counted among ``ranked`` (a group), by default all."""
    ranked = countries if ranked is None else ranked
    where = {c: n for n, c in enumerate(countries)}
    rows = np.array([where[c] for c in ranked], dtype=np.intp)
    choices = methodology.choices
    combos: dict[tuple[str, str], Matrix] = {}

    def pillars_for(imputation: str, normalisation: str) -> Matrix:
        key = (imputation, normalisation)
        if key not in combos:
            combos[key] = pillars_of(normalise(impute(data, imputation), normalisation), methodology)
        return combos[key]

    ref = {f: c.reference for f, c in choices.items()}
    ref_pillars = pillars_for(ref["imputation"], ref["normalisation"])
    ref_weights = weights_for(ref["weighting"], ref_pillars, methodology)
    ref_scores = aggregate(ref_pillars, ref_weights[:, None], ref["aggregation"])[:, 0]
    ref_rank = competition_ranks(ref_scores[rows])

    rng = np.random.default_rng(methodology.seed)
    draws = methodology.draws
    picks = {f: rng.integers(0, len(c.alternatives), size=draws) for f, c in choices.items()}
    noise = rng.uniform(
        1 - methodology.weight_noise, 1 + methodology.weight_noise, size=(len(methodology.pillars), draws)
    )
    ranks = np.empty((rows.size, draws))
    # Draws that share imputation, normalisation, weighting and aggregation are scored in one product.
    for i_imp, imputation in enumerate(choices["imputation"].alternatives):
        for i_norm, normalisation in enumerate(choices["normalisation"].alternatives):
            pillars = pillars_for(imputation, normalisation)[rows]
            full = pillars_for(imputation, normalisation)
            for i_w, weighting in enumerate(choices["weighting"].alternatives):
                base = weights_for(weighting, full, methodology)
                for i_agg, aggregation in enumerate(choices["aggregation"].alternatives):
                    mask = (
                        (picks["imputation"] == i_imp)
                        & (picks["normalisation"] == i_norm)
                        & (picks["weighting"] == i_w)
                        & (picks["aggregation"] == i_agg)
                    )
                    if not mask.any():
                        continue
                    weights = base[:, None] * noise[:, mask]
                    weights /= weights.sum(axis=0, keepdims=True)
                    scores = aggregate(pillars, weights, aggregation)
                    # Rank 1 for the best: the position in a descending sort, per draw.
                    order = np.argsort(-scores, axis=0, kind="stable")
                    block = np.empty_like(scores)
                    np.put_along_axis(block, order, np.arange(1, rows.size + 1, dtype=np.float64)[:, None], axis=0)
                    ranks[:, mask] = block
    low, median, high = np.percentile(ranks, [5, 50, 95], axis=1, method="inverted_cdf")
    total_var = ranks.var(axis=1)
    sensitivity: dict[str, float] = {}
    shifts: dict[str, dict[str, float]] = {}
    for factor, choice in choices.items():
        conditional = np.column_stack(
            [
                ranks[:, picks[factor] == k].mean(axis=1) if (picks[factor] == k).any() else ranks.mean(axis=1)
                for k in range(len(choice.alternatives))
            ]
        )
        share = np.divide(conditional.var(axis=1), total_var, out=np.zeros_like(total_var), where=total_var > 0)
        sensitivity[factor] = float(share.mean())
        shifts[factor] = {
            option: float(np.abs(ranks[:, picks[factor] == k] - ref_rank[:, None]).mean())
            if (picks[factor] == k).any()
            else 0.0
            for k, option in enumerate(choice.alternatives)
        }
    return Result(
        countries=countries,
        ranked=ranked,
        scores={c: float(ref_scores[n]) for n, c in enumerate(countries)},
        pillars={
            c: {p: float(ref_pillars[n, k]) for k, p in enumerate(methodology.pillars)} for n, c in enumerate(countries)
        },
        rank={c: int(ref_rank[k]) for k, c in enumerate(ranked)},
        rank_median={c: float(median[k]) for k, c in enumerate(ranked)},
        rank_low={c: int(low[k]) for k, c in enumerate(ranked)},
        rank_high={c: int(high[k]) for k, c in enumerate(ranked)},
        sensitivity=sensitivity,
        shifts=shifts,
        draws=draws,
    )

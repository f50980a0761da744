"""The readiness results as open data: the ranking of every loaded survey year and group, and the
methodology it was computed with, published on the data portal by the Office of Digital Government
(exchange member ``DGO``) through the portal's contract, like any publisher. A publication whose
rows did not change makes no new version."""

from __future__ import annotations

from datetime import date
from typing import Final

from gov21.opendata.contracts import PublishedVersion, TableColumn, TablePublication, table_publish
from gov21.readiness.index import methodology_load
from gov21.readiness.reference import groups
from gov21.readiness.selectors import egdi_years, rankings

ORGANIZATION: Final = "DGO"
RANKING_DATASET: Final = "readiness-index-ranking"
METHODOLOGY_DATASET: Final = "readiness-index-methodology"

RANKING_COLUMNS: Final = (
    TableColumn("year", "integer", "UN E-Government Survey year"),
    TableColumn("country_group", "text", "Country group (caricom, cariforum)"),
    TableColumn("country_code", "text", "ISO 3166-1 alpha-3"),
    TableColumn("country_name", "text", "Country"),
    TableColumn("egdi", "numeric", "UN E-Government Development Index, as published"),
    TableColumn("egdi_rank", "integer", "Rank in the group by the EGDI (1 = best)"),
    TableColumn("index_score", "numeric", "21st Century Government Index, reference choices"),
    TableColumn("index_rank", "integer", "Rank in the group by the index (1 = best)"),
    TableColumn("rank_median", "numeric", "Median rank over the Monte Carlo draws"),
    TableColumn("rank_low", "integer", "Best rank of the 90% interval"),
    TableColumn("rank_high", "integer", "Worst rank of the 90% interval"),
    TableColumn("methodology_sha256", "text", "SHA-256 of the methodology file"),
)
METHODOLOGY_COLUMNS: Final = (
    TableColumn("version", "text", "Methodology version"),
    TableColumn("sha256", "text", "SHA-256 of the methodology file"),
    TableColumn("indicator", "text", "Indicator"),
    TableColumn("source", "text", "Where its values come from"),
    TableColumn("pillar", "text", "Pillar of 21st Century Government"),
    TableColumn("expert_weight", "numeric", "The pillar's expert weight"),
    TableColumn("draws", "integer", "Monte Carlo draws"),
    TableColumn("seed", "integer", "Random seed of the draws"),
)


def ranking_rows() -> list[tuple[object, ...]]:
    """One row per country, group and loaded survey year: the EGDI and the index with its interval."""
    rows: list[tuple[object, ...]] = []
    for year in egdi_years():
        for code in groups():
            egdi = {c.country_code: c for c in rankings(index="egdi", year=year, group_code=code).countries}
            index = rankings(index="21cg", year=year, group_code=code)
            digest = index.methodology.digest if index.methodology else ""
            for c in index.countries:
                published = egdi.get(c.country_code)
                rows.append(
                    (
                        year,
                        code,
                        c.country_code,
                        c.country_name,
                        None if published is None or published.value is None else round(published.value, 5),
                        None if published is None else published.rank,
                        None if c.value is None else round(c.value, 5),
                        c.rank,
                        c.rank_median,
                        c.rank_low,
                        c.rank_high,
                        digest,
                    )
                )
    return rows


def methodology_rows() -> list[tuple[object, ...]]:
    m = methodology_load()
    return [
        (m.version, m.digest, i.code, i.source, i.pillar, m.expert_weights.get(i.pillar), m.draws, m.seed)
        for i in m.indicators
    ]


def results_publish() -> list[PublishedVersion]:
    """Publish the ranking and the methodology on the data portal (all or nothing for each)."""
    m = methodology_load()
    years = egdi_years()
    if not years:
        return []
    method = (
        f"Methodology {m.version} (SHA-256 {m.digest}): indicators are normalised, averaged into pillars "
        f"and weighted into the index; {m.draws} Monte Carlo draws (seed {m.seed}) vary the normalisation, "
        "the weights, the aggregation and the imputation of missing values, giving each country a median "
        "rank and a 90% rank interval. Figures about countries, none about persons."
    )
    ranking = TablePublication(
        dataset=RANKING_DATASET,
        organization=ORGANIZATION,
        title="21st Century Government Index: Caribbean ranking",
        notes=(
            "Each Caribbean state's score and rank by gov21's 21st Century Government Index, with how far "
            "its rank could move under other reasonable ways of building the index, beside its rank by the "
            "UN E-Government Development Index as published (UN DESA, United Nations E-Government Survey). " + method
        ),
        columns=RANKING_COLUMNS,
        rows=ranking_rows(),
        change_note=f"Survey years {', '.join(str(y) for y in years)}; methodology {m.version}",
        tags=("e-government", "readiness", "benchmark"),
        frequency="irregular",
        temporal_start=date(years[0], 1, 1),
        temporal_end=date(years[-1], 12, 31),
    )
    methodology = TablePublication(
        dataset=METHODOLOGY_DATASET,
        organization=ORGANIZATION,
        title="21st Century Government Index: methodology",
        notes="The indicators, pillars and weights of the index, as declared in its methodology file. " + method,
        columns=METHODOLOGY_COLUMNS,
        rows=methodology_rows(),
        change_note=f"Methodology {m.version}",
        tags=("e-government", "readiness", "methodology"),
        frequency="irregular",
    )
    return [table_publish(ranking), table_publish(methodology)]

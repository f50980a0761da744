"""A million agency records linked against a million-person registry: gov21's array engine
(decision 0068) and, in the same run, a plain Splink 4 model on DuckDB over the same data.

The registry side is a linkage index built in bulk from a simulated nation (every person's facets
as the registry's versions would give them), not a million persons entered through the registry's
services; the extract is generated from the same nation with the errors of bench/linkage_legacy.py.
Three steps, each its own process so that each one's peak memory is its own:

    PYTHONPATH=src python bench/linkage_1m.py generate --people 1050000 --records 1000000 --out /tmp/l1m.pkl
    PYTHONPATH=src python bench/linkage_1m.py gov21 /tmp/l1m.pkl [--no-history]
    PYTHONPATH=src python bench/linkage_1m.py splink /tmp/l1m.pkl

Every step stops itself after --limit seconds (900 by default).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from linkage_legacy import TODAY, _entries, generate

from gov21.demo.synthetic import simulate
from gov21.linkage import engine, vector


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _score(truth: list[str | None], found: dict[int, str]) -> tuple[float, float, float]:
    right = sum(1 for i, uin in found.items() if truth[i] == uin)
    positives = sum(1 for t in truth if t)
    precision = right / len(found) if found else 0.0
    recall = right / positives if positives else 0.0
    return precision, recall, 2 * precision * recall / (precision + recall) if right else 0.0


def cmd_generate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    nation = simulate(people=args.people, seed=args.seed, today=TODAY)
    registry, extract = generate(nation, records=args.records, seed=args.seed)
    del nation
    entries = _entries(extract)
    print(f"generated {len(registry)} persons, {len(extract)} records in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    with open(args.out, "wb") as out:
        pickle.dump(
            {
                "registry": registry,
                "entries": entries,
                "truth": [r.truth for r in extract],
            },
            out,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    print(f"written in {time.perf_counter() - started:.0f}s, peak RSS {_rss_mb():.0f} MB")


def cmd_gov21(args: argparse.Namespace) -> None:
    with open(args.data, "rb") as f:
        data = pickle.load(f)
    history = not args.no_history
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    vocab = vector.Vocab()
    persons = vector.persons_of(data["registry"], vocab)
    entries = vector.entries_of(data["entries"], vocab)
    encoded, encoded_cpu = time.perf_counter() - started, time.process_time() - cpu
    del data["registry"], data["entries"]
    started, cpu = time.perf_counter(), time.process_time()
    done = engine.link_arrays(entries, persons, vocab, history=history, upper=0.95, lower=0.5)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    keys = persons.keys
    linked = {i: keys[p] for i, p in enumerate(done.person) if p >= 0 and done.status[i] == 0}
    proposed = {i: keys[p] for i, p in enumerate(done.person) if p >= 0 and done.status[i] <= 1}
    p, r, f1 = _score(data["truth"], linked)
    pp, rr, ff = _score(data["truth"], proposed)
    steps = " ".join(f"{k}={wall:.1f}s/{used:.1f}s" for k, (wall, used) in done.timings.items())
    print(
        f"gov21 history={history} records={len(entries.keys)} persons={len(keys)} pairs={done.pairs} "
        f"encode={encoded:.1f}s (CPU {encoded_cpu:.1f}s) link={seconds:.1f}s (CPU {cpu:.1f}s; wall/CPU: {steps})"
    )
    print(f"  linked: P={p:.4f} R={r:.4f} F1={f1:.4f} | linked+review: P={pp:.4f} R={rr:.4f} F1={ff:.4f}")
    print(f"  review={int((done.status == 1).sum())} peak RSS {_rss_mb():.0f} MB (data loaded: {before:.0f} MB)")


def cmd_splink(args: argparse.Namespace) -> None:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    with open(args.data, "rb") as f:
        data = pickle.load(f)
    # Plain Splink sees today's record of each person (it has no history).
    right = pd.DataFrame(
        {
            "unique_id": [p.key for p in data["registry"]],
            "given": [p.facets[-1].given or None for p in data["registry"]],
            "surname": [p.facets[-1].surname or None for p in data["registry"]],
            "dob": [p.dob.isoformat() if p.dob else None for p in data["registry"]],
            "sex": [p.sex or None for p in data["registry"]],
            "address": [p.facets[-1].address or None for p in data["registry"]],
            "settlement": [p.facets[-1].settlement or None for p in data["registry"]],
        }
    )
    left = pd.DataFrame(
        {
            "unique_id": [e.key for e in data["entries"]],
            "given": [e.given or None for e in data["entries"]],
            "surname": [e.surname or None for e in data["entries"]],
            "dob": [e.dob.isoformat() if e.dob else None for e in data["entries"]],
            "sex": [e.sex or None for e in data["entries"]],
            "address": [e.address or None for e in data["entries"]],
            "settlement": [e.settlement or None for e in data["entries"]],
        }
    )
    for frame in (left, right):
        frame["year"] = frame["dob"].str[:4]
    truth = {e.key: t for e, t in zip(data["entries"], data["truth"], strict=True)}
    del data
    started, cpu = time.perf_counter(), time.process_time()
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("dob"),
            block_on("given", "surname"),
            block_on("surname", "year"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given", [0.94, 0.88]),
            cl.JaroWinklerAtThresholds("surname", [0.94, 0.88]),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
            cl.ExactMatch("sex"),
            cl.JaroWinklerAtThresholds("address", [0.92]),
            cl.ExactMatch("settlement"),
        ],
    )
    linker = Linker([left, right], settings, db_api=DuckDBAPI())
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    frame = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    frame = frame.sort_values("match_probability", ascending=False).drop_duplicates("unique_id_l")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = {r.unique_id_l: r.unique_id_r for r in frame.itertuples()}
    right_count = sum(1 for k, v in found.items() if truth[k] == v)
    positives = sum(1 for t in truth.values() if t)
    precision, recall = right_count / max(len(found), 1), right_count / max(positives, 1)
    f1 = 2 * precision * recall / (precision + recall) if right_count else 0.0
    print(f"splink records={len(left)} persons={len(right)} time={seconds:.1f}s (CPU {cpu:.1f}s)")
    print(f"  most probable pair per record >= 0.5: P={precision:.4f} R={recall:.4f} F1={f1:.4f}")
    print(f"  peak RSS {_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=900, help="stop after this many seconds")
    sub = parser.add_subparsers(dest="step", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--people", type=int, default=1_050_000)
    gen.add_argument("--records", type=int, default=1_000_000)
    gen.add_argument("--seed", type=int, default=58)
    gen.add_argument("--out", required=True)
    run = sub.add_parser("gov21")
    run.add_argument("data")
    run.add_argument("--no-history", action="store_true")
    spl = sub.add_parser("splink")
    spl.add_argument("data")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"stopped after {args.limit}s"))
    signal.alarm(args.limit)
    print(f"nproc={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    {"generate": cmd_generate, "gov21": cmd_gov21, "splink": cmd_splink}[args.step](args)


if __name__ == "__main__":
    main()

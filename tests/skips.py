"""Compares the tests a run skipped with tests/skip-allowlist.txt, so that no test vanishes unnoticed.

    python -m tests.skips SKIPPED_FILE ENGINE

SKIPPED_FILE is what tests/suite_checks.py wrote (``node id<TAB>reason`` a line); ENGINE is the
database the run used (``sqlite`` or ``postgresql``). Each allow-list line is ``ENGINE PATTERN REASON``:
ENGINE is ``sqlite``, ``postgresql`` or ``any``, PATTERN a shell-style pattern of test ids, REASON why
the skip is right. Exits 1, naming them, when a skip is not allowed or an allowance matched nothing on
this engine (a stale allowance would hide the next skip), 2 when the allow-list is malformed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

ALLOWLIST = Path(__file__).resolve().parent / "skip-allowlist.txt"
ENGINES = ("sqlite", "postgresql", "any")


class AllowListError(ValueError):
    """A line of the allow-list that does not say an engine, a pattern and a reason."""


@dataclass(frozen=True)
class Allowance:
    """One allow-list line: on which engine the tests matching ``pattern`` may be skipped, and why."""

    engine: str
    pattern: str
    reason: str
    line: int

    def applies(self, engine: str) -> bool:
        return self.engine in ("any", engine)


def allowances_parse(text: str) -> list[Allowance]:
    """The allowances of an allow-list; blank lines and ``#`` comments are ignored."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 3 or parts[0] not in ENGINES:
            raise AllowListError(f"line {number}: write ENGINE PATTERN REASON, ENGINE one of {', '.join(ENGINES)}")
        found.append(Allowance(engine=parts[0], pattern=parts[1], reason=parts[2], line=number))
    return found


def skips_parse(text: str) -> list[tuple[str, str]]:
    """The (test id, reason) of each skip a run wrote down."""
    rows = []
    for line in text.splitlines():
        if line:
            test_id, _, reason = line.partition("\t")
            rows.append((test_id, reason))
    return rows


def skips_check(skipped: list[tuple[str, str]], allowances: list[Allowance], engine: str) -> list[str]:
    """A line for each skip no allowance covers on ``engine``, and for each allowance that covered nothing."""
    here = [allowance for allowance in allowances if allowance.applies(engine)]
    used: set[Allowance] = set()
    problems = []
    for test_id, reason in skipped:
        matching = [allowance for allowance in here if fnmatchcase(test_id, allowance.pattern)]
        used.update(matching)
        if not matching:
            problems.append(f"skipped, and not on the allow-list: {test_id} ({reason})")
    for allowance in here:
        if allowance not in used:
            problems.append(
                f"allow-list line {allowance.line} matched no skipped test on {engine}: {allowance.pattern}"
                " (remove it, or say why the test no longer runs)"
            )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ENGINES[:2]:
        print("usage: python -m tests.skips SKIPPED_FILE sqlite|postgresql", file=sys.stderr)
        return 2
    try:
        allowances = allowances_parse(ALLOWLIST.read_text(encoding="utf-8"))
    except AllowListError as error:
        print(f"{ALLOWLIST}: {error}", file=sys.stderr)
        return 2
    skipped_file = Path(argv[0])
    skipped = skips_parse(skipped_file.read_text(encoding="utf-8")) if skipped_file.exists() else []
    problems = skips_check(skipped, allowances, argv[1])
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(skipped)} skipped on {argv[1]}, {len(problems)} not allowed by {ALLOWLIST.name}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The tally of a participatory budget, recomputed from nothing but its published list of
anonymised ballots: anyone can run it (``gov21 participation tally FILE``) and compare the counts
with the published results."""

from __future__ import annotations

from collections import Counter
from typing import Any


class TallyError(ValueError):
    """The published list does not hold together (a ballot over budget, an unknown project, a
    receipt twice): it is not the list of a valid vote."""


def tally_recompute(document: dict[str, Any]) -> dict[str, Any]:
    """The counts per project and the number of ballots, from a published ballots document."""
    try:
        budget = int(document["budget_cents"])
        costs = {str(p["code"]): int(p["cost_cents"]) for p in document["projects"]}
        ballots = list(document["ballots"])
    except (KeyError, TypeError, ValueError) as error:
        raise TallyError(f"not a ballots document: {error}") from error
    counts: Counter[str] = Counter(dict.fromkeys(costs, 0))
    receipts: set[str] = set()
    for ballot in ballots:
        digest = str(ballot.get("receipt_digest", ""))
        chosen = [str(code) for code in ballot.get("projects", [])]
        if digest in receipts:
            raise TallyError(f"receipt {digest} appears twice")
        receipts.add(digest)
        if not chosen or len(set(chosen)) != len(chosen) or any(code not in costs for code in chosen):
            raise TallyError(f"ballot {digest} names a project twice or one the vote does not have")
        if sum(costs[code] for code in chosen) > budget:
            raise TallyError(f"ballot {digest} spends more than the budget")
        counts.update(chosen)
    return {"ballots": len(ballots), "projects": dict(sorted(counts.items()))}

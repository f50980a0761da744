"""The opinion map, as Pol.is draws it: participants placed by their agree/disagree/pass votes with
principal component analysis, grouped with k-means on the two components, then the statements that
every group agrees (or disagrees) with, and those that set each group apart.

Plain numpy (decision 0063): the covariance of the statements (500 × 500 at most) is small however
many participants there are, so the components come from one symmetric eigen-decomposition, and
k-means on points in the plane is a few vectorised lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Groups tried; the one with the best silhouette (on a sample of points) is kept.
GROUP_COUNTS = (2, 3, 4, 5)
# A participant counts in the map after voting on this many statements (Pol.is uses 7).
MIN_VOTES = 3
# Agreement (with Laplace smoothing) a statement needs in every group to be a consensus.
CONSENSUS = 0.6
SILHOUETTE_SAMPLE = 800
KMEANS_ROUNDS = 30

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Group:
    size: int
    centre: tuple[float, float]
    # Statements (ids) that set this group apart: agreed here far more than elsewhere.
    representative: list[int]


@dataclass(frozen=True)
class Consensus:
    statement: int
    agree: bool  # True: every group agrees; False: every group disagrees
    score: float  # the lowest group's smoothed rate


@dataclass(frozen=True)
class OpinionResult:
    participants: int
    groups: list[Group]
    consensus: list[Consensus]


def _components(votes: Matrix) -> Matrix:
    """The participants' coordinates on the two principal components (unvoted cells count as 0)."""
    centred = votes - votes.mean(axis=0)
    covariance = centred.T @ centred
    values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, np.argsort(values)[::-1][:2]]
    if top.shape[1] < 2:
        top = np.pad(top, ((0, 0), (0, 2 - top.shape[1])))
    projected: Matrix = centred @ top
    return projected


def _kmeans(points: Matrix, k: int, seed: int) -> tuple[npt.NDArray[np.intp], Matrix]:
    rng = np.random.default_rng(seed)
    # k-means++ start: each new centre far from those chosen.
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        distance = np.min([np.sum((points - c) ** 2, axis=1) for c in centres], axis=0)
        total = float(distance.sum())
        pick = rng.choice(len(points), p=distance / total) if total > 0 else rng.integers(len(points))
        centres.append(points[pick])
    centre = np.array(centres)
    labels = np.zeros(len(points), dtype=np.intp)
    for _ in range(KMEANS_ROUNDS):
        labels = np.argmin(((points[:, None, :] - centre[None, :, :]) ** 2).sum(axis=2), axis=1)
        moved = np.array([points[labels == g].mean(axis=0) if np.any(labels == g) else centre[g] for g in range(k)])
        if np.allclose(moved, centre):
            break
        centre = moved
    return labels, centre


def _silhouette(points: Matrix, labels: npt.NDArray[np.intp], k: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    index = rng.choice(len(points), size=min(SILHOUETTE_SAMPLE, len(points)), replace=False)
    sample, groups = points[index], labels[index]
    distance = np.sqrt(((sample[:, None, :] - sample[None, :, :]) ** 2).sum(axis=2))
    scores = []
    for i in range(len(sample)):
        own = groups == groups[i]
        if own.sum() <= 1:
            scores.append(0.0)
            continue
        a = distance[i, own].sum() / (own.sum() - 1)
        b = min(
            (distance[i, groups == g].mean() for g in range(k) if g != groups[i] and np.any(groups == g)), default=a
        )
        scores.append(float((b - a) / max(a, b)) if max(a, b) > 0 else 0.0)
    return float(np.mean(scores))


def opinion_compute(votes: Matrix, statements: list[int], *, seed: int = 21) -> OpinionResult:
    """``votes``: one row per participant, one column per statement (1 agree, -1 disagree, 0 pass
    or not seen); ``statements`` names the columns. Participants with too few votes are left out."""
    voted = np.count_nonzero(votes, axis=1) >= MIN_VOTES if votes.size else np.zeros(0, dtype=bool)
    votes = votes[voted]
    if len(votes) < 4 or votes.shape[1] < 2:
        return OpinionResult(participants=len(votes), groups=[], consensus=[])
    points = _components(votes)
    best: tuple[float, npt.NDArray[np.intp], Matrix, int] | None = None
    for k in GROUP_COUNTS:
        if k >= len(points):
            break
        labels, centre = _kmeans(points, k, seed)
        score = _silhouette(points, labels, k, seed)
        if best is None or score > best[0] + 0.02:
            best = (score, labels, centre, k)
    assert best is not None
    _score, labels, centre, k = best
    agree = votes > 0
    disagree = votes < 0
    seen = votes != 0
    agree_rates, disagree_rates = [], []
    groups: list[Group] = []
    for g in range(k):
        member = labels == g
        if not member.any():
            continue
        n_seen = seen[member].sum(axis=0)
        a_rate = (agree[member].sum(axis=0) + 1) / (n_seen + 2)
        d_rate = (disagree[member].sum(axis=0) + 1) / (n_seen + 2)
        others = ~member
        o_rate = (agree[others].sum(axis=0) + 1) / (seen[others].sum(axis=0) + 2)
        apart = a_rate / o_rate
        order = [int(i) for i in np.argsort(apart)[::-1] if a_rate[i] > 0.5][:3]
        agree_rates.append(a_rate)
        disagree_rates.append(d_rate)
        groups.append(
            Group(
                size=int(member.sum()),
                centre=(round(float(centre[g][0]), 4), round(float(centre[g][1]), 4)),
                representative=[statements[i] for i in order],
            )
        )
    low_agree = np.min(agree_rates, axis=0)
    low_disagree = np.min(disagree_rates, axis=0)
    consensus = [
        Consensus(statement=statements[i], agree=True, score=round(float(low_agree[i]), 4))
        for i in np.argsort(low_agree)[::-1]
        if low_agree[i] >= CONSENSUS
    ] + [
        Consensus(statement=statements[i], agree=False, score=round(float(low_disagree[i]), 4))
        for i in np.argsort(low_disagree)[::-1]
        if low_disagree[i] >= CONSENSUS
    ]
    return OpinionResult(participants=len(votes), groups=groups, consensus=consensus[:10])

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
SILHOUETTE_SAMPLE = 600
KMEANS_ROUNDS = 30
POWER_ROUNDS = 300

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
    """The participants' coordinates on the two principal components (unvoted cells count as 0).

    Only two eigenvectors of the statements' covariance are wanted, so they come from subspace
    iteration (a few products of a 500 × 500 matrix with a 500 × 2 one) rather than a full
    eigen-decomposition, which cost ten times more on the shared machine (decision 0063)."""
    centred = (votes - votes.mean(axis=0)).astype(np.float32)
    covariance = (centred.T @ centred).astype(np.float64)
    rng = np.random.default_rng(0)
    basis, _r = np.linalg.qr(rng.standard_normal((covariance.shape[0], 2)))
    for _ in range(POWER_ROUNDS):
        moved, _r = np.linalg.qr(covariance @ basis)
        if np.allclose(np.abs(np.sum(moved * basis, axis=0)), 1.0, atol=1e-9):
            basis = moved
            break
        basis = moved
    projected: Matrix = (centred @ basis.astype(np.float32)).astype(np.float64)
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
    """The mean silhouette of a sample of the points: how much nearer each is to its own group
    than to the nearest other one (1 well apart, 0 on a border)."""
    rng = np.random.default_rng(seed)
    index = rng.choice(len(points), size=min(SILHOUETTE_SAMPLE, len(points)), replace=False)
    sample, groups = points[index], labels[index]
    distance = np.sqrt(((sample[:, None, :] - sample[None, :, :]) ** 2).sum(axis=2))
    member = np.eye(k)[groups]  # one column per group
    sums = distance @ member
    counts = member.sum(axis=0)
    own = counts[groups]
    a = sums[np.arange(len(sample)), groups] / np.maximum(own - 1, 1)
    others = np.where(member.astype(bool) | (counts == 0), np.inf, sums / np.maximum(counts, 1))
    b = others.min(axis=1)
    b = np.where(np.isinf(b), a, b)
    score = np.where((own > 1) & (np.maximum(a, b) > 0), (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(score.mean())


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
    member = np.eye(k, dtype=np.float32)[labels]  # participants × groups
    agree = member.T @ (votes > 0).astype(np.float32)  # groups × statements
    disagree = member.T @ (votes < 0).astype(np.float32)
    seen = member.T @ (votes != 0).astype(np.float32)
    agree_rates, disagree_rates = [], []
    groups: list[Group] = []
    for g in range(k):
        if not member[:, g].any():
            continue
        a_rate = (agree[g] + 1) / (seen[g] + 2)
        d_rate = (disagree[g] + 1) / (seen[g] + 2)
        o_rate = (agree.sum(axis=0) - agree[g] + 1) / (seen.sum(axis=0) - seen[g] + 2)
        apart = a_rate / o_rate
        order = [int(i) for i in np.argsort(apart)[::-1] if a_rate[i] > 0.5][:3]
        agree_rates.append(a_rate)
        disagree_rates.append(d_rate)
        groups.append(
            Group(
                size=int(member[:, g].sum()),
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

"""Reads of e-participation. What the public sees holds no person: counts, totals after the close,
the anonymised ballots with their receipt digests, comments under no name, the moderation log."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.participation.models import (
    AbuseReport,
    Amendment,
    Ballot,
    Comment,
    ModerationEntry,
    OpinionMap,
    Process,
    Proposal,
    Section,
    Statement,
    StatementVote,
    SurveyQuestion,
    SurveyResponse,
)
from gov21.participation.opinion import opinion_compute


def processes_list() -> list[Process]:
    return list(Process.objects.order_by("-opens_at", "slug"))


def process_get(slug: str) -> Process:
    found = Process.objects.filter(slug=slug).first()
    if found is None:
        raise DomainError("unknown_process", "There is no such process.", status=404)
    return found


def process_closed(process: Process) -> bool:
    return timezone.now() >= process.closes_at


def signatures_count(process: Process) -> int:
    return process.signatures.count()


def ballots_count(process: Process) -> int:
    return process.ballots.count()


def ballots_published(process: Process) -> dict[str, Any]:
    """Every ballot, by its receipt's digest, in digest order (which says nothing of who or when)."""
    ballots = (
        Ballot.objects.filter(process=process).order_by("receipt_digest").values_list("receipt_digest", "projects")
    )
    return {
        "process": process.slug,
        "budget_cents": process.budget_cents,
        "projects": [
            {"code": p.code, "title": p.title, "cost_cents": p.cost_cents} for p in process.projects.order_by("code")
        ],
        "ballots": [{"receipt_digest": digest, "projects": projects} for digest, projects in ballots],
    }


def receipt_find(process: Process, receipt: str) -> list[str] | None:
    """The projects of the ballot a receipt belongs to, if it is still the voter's current one."""
    digest = hashlib.sha256(receipt.strip().encode()).hexdigest()
    found = Ballot.objects.filter(process=process, receipt_digest=digest).values_list("projects", flat=True).first()
    return list(found) if found is not None else None


def comments_shown(process: Process) -> list[Comment]:
    return list(
        process.comments.filter(parent=None, proposal=None).prefetch_related("replies").order_by("created_at", "pk")
    )


def moderation_log(process: Process) -> list[ModerationEntry]:
    return list(process.moderation.all()[:200])


def statements_shown(process: Process) -> list[dict[str, Any]]:
    """Each visible statement with its counts of agree, disagree and pass."""
    rows = (
        Statement.objects.filter(process=process, hidden=False)
        .annotate(
            agree=Count("votes", filter=Q(votes__value=1)),
            disagree=Count("votes", filter=Q(votes__value=-1)),
            passed=Count("votes", filter=Q(votes__value=0)),
        )
        .order_by("pk")
    )
    return [{"id": s.pk, "text": s.text, "agree": s.agree, "disagree": s.disagree, "passed": s.passed} for s in rows]


def opinion_map_get(process: Process) -> OpinionMap | None:
    return OpinionMap.objects.filter(process=process).first()


def opinion_votes(process_id: int) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[int], int]:
    """The vote matrix of a consultation (participants × visible statements) and the votes read."""
    statements = list(
        Statement.objects.filter(process_id=process_id, hidden=False).order_by("pk").values_list("pk", flat=True)
    )
    column = {pk: i for i, pk in enumerate(statements)}
    rows = StatementVote.objects.filter(process_id=process_id, statement_id__in=statements).values_list(
        "pseudonym", "statement_id", "value"
    )
    people: dict[str, int] = {}
    cells: list[tuple[int, int, int]] = []
    for who, statement, value in rows.iterator(chunk_size=20_000):
        cells.append((people.setdefault(who, len(people)), column[statement], value))
    matrix = np.zeros((len(people), len(statements)), dtype=np.float64)
    if cells:
        index = np.array(cells, dtype=np.int64)
        matrix[index[:, 0], index[:, 1]] = index[:, 2]
    return matrix, statements, len(cells)


def opinion_result(process_id: int) -> tuple[dict[str, Any], int]:
    matrix, statements, seen = opinion_votes(process_id)
    result = opinion_compute(matrix, statements)
    return asdict(result), seen


def tally(process: Process) -> dict[str, Any]:
    """The results of a budget vote: ballots and the ballots that chose each project."""
    counts = dict.fromkeys(process.projects.values_list("code", flat=True), 0)
    ballots = 0
    for chosen in Ballot.objects.filter(process=process).values_list("projects", flat=True).iterator():
        ballots += 1
        for code in chosen:
            counts[code] += 1
    titles = dict(process.projects.values_list("code", "title"))
    return {
        "ballots": ballots,
        "projects": dict(sorted(counts.items())),
        "rows": sorted(((titles[c], c, n) for c, n in counts.items()), key=lambda row: (-row[2], row[1])),
    }


def opinion_map_view(process: Process) -> dict[str, Any] | None:
    """The latest map in words: each group with its size and the statements that set it apart, and
    the statements with consensus across groups."""
    found = opinion_map_get(process)
    if found is None or found.computed_at is None:
        return None
    texts = dict(Statement.objects.filter(process=process, hidden=False).values_list("pk", "text"))
    result = found.result
    groups = [
        {
            "number": i + 1,
            "size": g["size"],
            "centre": g.get("centre", (0.0, 0.0)),
            "representative": [texts[s] for s in g["representative"] if s in texts],
        }
        for i, g in enumerate(result.get("groups", []))
    ]
    _map_drawing(groups)
    consensus = [
        {"text": texts[c["statement"]], "agree": c["agree"]}
        for c in result.get("consensus", [])
        if c["statement"] in texts
    ]
    return {
        "participants": result.get("participants", 0),
        "groups": groups,
        "consensus": consensus,
        "computed_at": found.computed_at,
        "stale": found.stale,
    }


# The drawing of the map: a square of MAP_SIZE units, the groups' centres placed inside a margin.
MAP_SIZE = 300
MAP_MARGIN = 50


def _map_drawing(groups: list[dict[str, Any]]) -> None:
    """Each group's place in the SVG drawing: its centre in the plane of the first two principal
    components scaled into the square (both axes by the same factor, so distances keep their
    proportions), and a radius whose area grows with the group's size."""
    if not groups:
        return
    xs = [float(g["centre"][0]) for g in groups]
    ys = [float(g["centre"][1]) for g in groups]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    inner = MAP_SIZE - 2 * MAP_MARGIN
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    largest = max(g["size"] for g in groups) or 1
    for g, x, y in zip(groups, xs, ys, strict=True):
        g["x"] = round(MAP_SIZE / 2 + (x - mid_x) / span * inner, 1)
        # The drawing's y grows downwards; the plane's upwards.
        g["y"] = round(MAP_SIZE / 2 - (y - mid_y) / span * inner, 1)
        g["r"] = round(8 + 32 * (g["size"] / largest) ** 0.5, 1)
        g["px"], g["py"] = round(x, 3), round(y, 3)


def abuse_reports_open() -> list[AbuseReport]:
    """Reports of comments still shown, oldest first: the moderators' queue."""
    return list(
        AbuseReport.objects.filter(comment__hidden=False)
        .select_related("comment", "comment__process")
        .order_by("reported_at")[:100]
    )


def survey_questions(process: Process) -> list[SurveyQuestion]:
    return list(SurveyQuestion.objects.filter(process=process).order_by("position"))


def survey_responses_count(process: Process) -> int:
    return SurveyResponse.objects.filter(process=process).count()


def survey_results(process: Process) -> dict[str, Any]:
    """The results of a survey, question by question: the answers counted per option, the scale's
    distribution and mean, and the free-text answers in alphabetical order (which says nothing of who
    wrote them or when). The page escapes the texts as it shows them."""
    questions = survey_questions(process)
    choices: dict[int, dict[str, int]] = {q.pk: {code: 0 for code, _label in q.options} for q in questions if q.options}
    scales: dict[int, dict[int, int]] = {q.pk: dict.fromkeys(range(1, 6), 0) for q in questions if q.kind == "scale"}
    texts: dict[int, list[str]] = {q.pk: [] for q in questions if q.kind == "text"}
    answered_by = dict.fromkeys(choices, 0)
    responses = 0
    for answers in SurveyResponse.objects.filter(process=process).values_list("answers", flat=True).iterator():
        responses += 1
        for key, value in answers.items():
            pk = int(key)
            if pk in choices:
                answered_by[pk] += 1
                for code in value if isinstance(value, list) else [value]:
                    if code in choices[pk]:
                        choices[pk][code] += 1
            elif pk in scales and value in scales[pk]:
                scales[pk][value] += 1
            elif pk in texts:
                texts[pk].append(str(value))
    rows: list[dict[str, Any]] = []
    for q in questions:
        row: dict[str, Any] = {"id": q.pk, "kind": q.kind, "text": q.text}
        if q.pk in choices:
            row["options"] = [(label, code, choices[q.pk][code]) for code, label in q.options]
            row["answered"] = answered_by[q.pk]
        if q.pk in scales:
            spread = scales[q.pk]
            answered = sum(spread.values())
            row["distribution"] = sorted(spread.items())
            row["answered"] = answered
            row["mean"] = round(sum(k * n for k, n in spread.items()) / answered, 2) if answered else None
        if q.pk in texts:
            row["texts"] = sorted(texts[q.pk], key=str.casefold)
            row["answered"] = len(texts[q.pk])
        rows.append(row)
    return {"responses": responses, "questions": rows}


def proposals_list(process: Process) -> list[Proposal]:
    """The proposals of a process, most supported first (no author: a proposal is under no name)."""
    return list(Proposal.objects.filter(process=process).order_by("-supports", "-pk"))


def proposal_get(process: Process, proposal_id: int) -> Proposal:
    found = Proposal.objects.filter(process=process, pk=proposal_id).first()
    if found is None:
        raise DomainError("unknown_proposal", "There is no such proposal.", status=404)
    return found


def proposal_debate(proposal: Proposal) -> list[dict[str, Any]]:
    """The debate of a proposal as a tree: each comment (hidden ones as a mark only) with its replies,
    oldest first, read in one query."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for c in Comment.objects.filter(proposal=proposal).order_by("created_at", "pk"):
        node = {"id": c.pk, "body": "" if c.hidden else c.body, "hidden": c.hidden, "official": c.official}
        node["replies"] = []
        nodes[c.pk] = node
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        (parent["replies"] if parent is not None else roots).append(node)
    return roots


def proposals_awaiting_answer() -> list[Proposal]:
    """Proposals that reached their threshold and have no public answer yet: the agencies' queue."""
    return list(
        Proposal.objects.filter(state=Proposal.State.REACHED, answer="")
        .select_related("process")
        .order_by("reached_at", "pk")[:100]
    )


def sections_shown(process: Process) -> list[dict[str, Any]]:
    """The draft's sections in order, each with its amendments (most supported first) and the
    number of comments on it."""
    amendments: dict[int, list[Amendment]] = {}
    for a in Amendment.objects.filter(process=process).order_by("-supports", "pk"):
        amendments.setdefault(a.section_id, []).append(a)
    comments = dict(
        Comment.objects.filter(process=process, proposal=None)
        .exclude(section="")
        .values_list("section")
        .annotate(n=Count("pk"))
        .values_list("section", "n")
    )
    return [
        {"section": s, "amendments": amendments.get(s.pk, []), "comments": comments.get(str(s.pk), 0)}
        for s in Section.objects.filter(process=process).order_by("position")
    ]


def amendments_undecided() -> list[Amendment]:
    """Amendments the agencies have not decided on yet, most supported first: their queue."""
    return list(
        Amendment.objects.filter(state=Amendment.State.PROPOSED)
        .select_related("process", "section")
        .order_by("-supports", "pk")[:100]
    )


def consultation_summary(process: Process) -> dict[str, Any]:
    """The summary report of a consultation: per section, the comments and the amendments suggested,
    accepted and rejected (with the agency's reasons); the official responses; the opinion map's
    groups and consensus. Totals and texts only: no participant appears."""
    rows = []
    for item in sections_shown(process):
        found = item["amendments"]
        rows.append(
            {
                "section": item["section"],
                "comments": item["comments"],
                "suggested": len(found),
                "accepted": [a for a in found if a.state == Amendment.State.ACCEPTED],
                "rejected": [a for a in found if a.state == Amendment.State.REJECTED],
                "undecided": sum(1 for a in found if a.state == Amendment.State.PROPOSED),
            }
        )
    return {
        "sections": rows,
        "comments": Comment.objects.filter(process=process, proposal=None, official=False, hidden=False).count(),
        "responses": list(
            Comment.objects.filter(process=process, proposal=None, official=True, hidden=False).order_by("created_at")
        ),
        "statements": Statement.objects.filter(process=process, hidden=False).count(),
        "map": opinion_map_view(process),
    }

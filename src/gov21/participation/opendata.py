"""The results of every closed process as one open table: the totals the public already sees on
each process's page after its close (signatures, ballots per project, agree/disagree/pass per
statement, answers per survey option and scale point, supports per proposal), never a pseudonym and
never the free-text answers of a survey, which may name people. E-participation sits beside the data
portal, so the top-level wiring hands the table to ``opendata.contracts.table_publish``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from django.db.models import Count, Q
from django.utils import timezone

from gov21.participation import selectors
from gov21.participation.models import Process, Proposal, Statement

ORGANIZATION: Final = "DGO"  # the exchange member whose subsystem (participation) runs the processes
DATASET: Final = "participation-results"

Head = tuple[str, str, str, str, str, date]
Row = tuple[str, str, str, str, str, date, str, str, str, int]


@dataclass(frozen=True, slots=True)
class ResultsTable:
    """A table to publish: its dataset name, title, description, columns (name, type, title) and rows."""

    dataset: str
    title: str
    notes: str
    columns: tuple[tuple[str, str, str], ...]
    rows: list[tuple[object, ...]]
    tags: tuple[str, ...]


def _petition(process: Process, head: Head) -> Iterator[Row]:
    yield (*head, "", "", "signatures", selectors.signatures_count(process))


def _budget(process: Process, head: Head) -> Iterator[Row]:
    tally = selectors.tally(process)
    yield (*head, "", "", "ballots", tally["ballots"])
    for title, code, chosen in sorted(tally["rows"], key=lambda row: row[1]):
        yield (*head, code, title, "ballots_choosing", chosen)


def _consultation(process: Process, head: Head) -> Iterator[Row]:
    statements = (
        Statement.objects.filter(process=process, hidden=False)
        .annotate(
            agree=Count("votes", filter=Q(votes__value=1)),
            disagree=Count("votes", filter=Q(votes__value=-1)),
            passed=Count("votes", filter=Q(votes__value=0)),
        )
        .order_by("pk")
    )
    for s in statements:
        for measure, value in (("agree", s.agree), ("disagree", s.disagree), ("pass", s.passed)):
            yield (*head, f"statement-{s.pk}", s.text, measure, value)
    comments = process.comments.filter(hidden=False).count()
    yield (*head, "", "", "comments", comments)


def _survey(process: Process, head: Head) -> Iterator[Row]:
    results = selectors.survey_results(process)
    yield (*head, "", "", "responses", results["responses"])
    for question in results["questions"]:
        item = f"question-{question['id']}"
        for label, code, count in question.get("options", ()):
            yield (*head, f"{item}/{code}", f"{question['text']}: {label}", "answers", count)
        for point, count in question.get("distribution", ()):
            yield (*head, f"{item}/{point}", f"{question['text']}: {point}", "answers", count)


def _proposals(process: Process, head: Head) -> Iterator[Row]:
    for p in Proposal.objects.filter(process=process).order_by("pk"):
        yield (*head, f"proposal-{p.pk}/{p.state}", p.title, "supports", p.supports)


_ROWS: Final = {
    Process.Kind.PETITION: _petition,
    Process.Kind.BUDGET: _budget,
    Process.Kind.CONSULTATION: _consultation,
    Process.Kind.SURVEY: _survey,
    Process.Kind.PROPOSALS: _proposals,
}


def results_rows() -> list[Row]:
    """One row per (closed process, item, measure), processes in the order they closed."""
    rows: list[Row] = []
    closed = Process.objects.filter(closes_at__lte=timezone.now()).order_by("closes_at", "slug")
    for process in closed:
        closed_on = timezone.localtime(process.closes_at).date()
        head: Head = (process.slug, process.kind, process.title, process.agency, process.parish, closed_on)
        rows.extend(_ROWS[Process.Kind(process.kind)](process, head))
    return rows


def results_table() -> ResultsTable:
    """The table, computed now."""
    return ResultsTable(
        dataset=DATASET,
        title="Results of public participation processes",
        notes=(
            "The results of every closed petition, participatory budget, consultation, survey and set of "
            "citizens' proposals, as their pages show them after the close: one row per process, item "
            "(a project, a statement, a survey option or scale point, a proposal and its state) and "
            "measure. One person, one signature or vote: each process counts a person once, under a "
            "pseudonym of that process. No pseudonym and no free-text answer is published; the "
            "anonymised ballots of a budget are published on its own page with their receipt codes."
        ),
        columns=(
            ("process", "text", "Process"),
            ("kind", "text", "Kind of process"),
            ("process_title", "text", "Title of the process"),
            ("agency", "text", "Agency running it"),
            ("parish", "text", "Parish (empty: national)"),
            ("closed_on", "date", "Closed on"),
            ("item", "text", "Item"),
            ("item_title", "text", "Title of the item"),
            ("measure", "text", "Measure"),
            ("value", "integer", "Value"),
        ),
        rows=list(results_rows()),
        tags=("participation", "petitions", "participatory budget", "consultations"),
    )

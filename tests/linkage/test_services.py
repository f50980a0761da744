"""Import, index, run, review and export through the real services and the real exchange."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from gov21.core.errors import DomainError
from gov21.exchange.contracts import data_uses_for
from gov21.linkage import services
from gov21.linkage.models import Decision, IndexEntry, Pair, Record, Run
from tests.linkage.helpers import OFFICER, OTHER_OFFICER, clinic_rows, population, write_csv

pytestmark = pytest.mark.django_db


def _status(source: str) -> dict[str, tuple[str, str]]:
    return {r.record_id: (r.status, r.uin) for r in Record.objects.filter(source__code=source)}


def test_a_clinics_messy_extract_is_imported_linked_and_exported_with_uins(tmp_path: Path) -> None:
    people = population()
    report = services.records_import(
        source="clinic", agency="MSD/benefits", path=write_csv(tmp_path / "c.csv", clinic_rows())
    )
    assert (report.imported, report.bad) == (5, [])
    said = io.StringIO()
    call_command("linkage", "run", "clinic", stdout=said)
    assert "candidate pairs" in said.getvalue()
    assert Run.objects.get(source__code="clinic").stage == "done"
    # The index holds every version the registry recorded, read through the exchange.
    assert IndexEntry.objects.filter(uin=people["ruth"].uin).count() == 2
    status = _status("clinic")
    assert status["C-1"][1] == people["ruth"].uin  # her maiden name in 2009
    assert status["C-2"][1] == people["jon"].uin
    assert status["C-3"] == ("linked", people["mary"].uin)
    assert status["C-4"][1] == people["william"].uin  # Bill is William
    assert status["C-5"] == ("unlinked", "")
    out = tmp_path / "out.csv"
    call_command("linkage", "export", "clinic", "--out", str(out), stdout=io.StringIO())
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["record_id", "uin", "match_probability", "status"]
    assert {r["record_id"]: r["status"] for r in rows}["C-5"] == "unlinked"
    assert {r["record_id"]: r["uin"] for r in rows}["C-3"] == people["mary"].uin
    # Reading the registry for the index is shown to each person among the uses of their data.
    assert any("record-linkage" in use["client"] for use in data_uses_for(subject=people["mary"].uin))


def test_history_aware_comparison_links_what_todays_record_alone_does_not(tmp_path: Path) -> None:
    people = population()
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", clinic_rows()))
    services.index_refresh()
    plain = services.run_continue(services.run_start(source="clinic", history=False))
    p_plain = Pair.objects.filter(run=plain, record__record_id="C-1", uin=people["ruth"].uin).first()
    historic = services.run_continue(services.run_start(source="clinic", history=True))
    p_hist = Pair.objects.get(run=historic, record__record_id="C-1", uin=people["ruth"].uin)
    assert p_hist.probability is not None
    assert p_plain is None or (p_plain.probability or 0) < p_hist.probability


def test_an_interrupted_run_continues_where_it_stopped_and_links_nothing_half_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    population()
    monkeypatch.setattr(services, "CHUNK", 2)
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", clinic_rows()))
    services.index_refresh()
    run = services.run_continue(services.run_start(source="clinic"), chunks=1)
    assert run.stage == "pairs" and run.checkpoint > 0
    # Nothing is linked until the run ends.
    assert set(Record.objects.values_list("status", flat=True)) == {""}
    again = services.run_start(source="clinic")
    assert again.pk == run.pk
    services.run_continue(again)
    resumed_pairs = set(Pair.objects.filter(run=again).values_list("record__record_id", "uin"))
    whole = services.run_continue(services.run_start(source="clinic"))
    assert Run.objects.get(pk=whole.pk).pk != again.pk
    assert resumed_pairs == set(Pair.objects.filter(run=whole).values_list("record__record_id", "uin"))
    assert _status("clinic")["C-3"][0] == "linked"


def test_officers_decide_reverse_and_a_second_decision_on_the_same_record_is_refused(tmp_path: Path) -> None:
    people = population()
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", clinic_rows()))
    services.run_source(source="clinic")
    record = Record.objects.get(record_id="C-3")
    record.status = "review"
    record.save()
    decision = services.decision_make(record=record.pk, uin=people["mary"].uin, verdict="reject", officer=OFFICER)
    with pytest.raises(DomainError) as refused:
        services.decision_make(record=record.pk, uin=people["mary"].uin, verdict="accept", officer=OTHER_OFFICER)
    assert refused.value.status == 409 and "linkage.officer" in refused.value.detail
    record.refresh_from_db()
    assert (record.status, Decision.objects.count()) == ("unlinked", 1)
    # The rejection is held by the next run: the pair stays apart.
    services.run_source(source="clinic")
    assert Record.objects.get(pk=record.pk).status != "linked"
    services.decision_reverse(decision=decision.pk, officer=OTHER_OFFICER)
    record.refresh_from_db()
    assert record.status == "review" and Decision.objects.count() == 2
    services.decision_make(record=record.pk, uin=people["mary"].uin, verdict="accept", officer=OTHER_OFFICER)
    services.run_source(source="clinic")
    assert _status("clinic")["C-3"] == ("linked", people["mary"].uin)


def test_the_registrys_likely_duplicates_are_listed_never_merged() -> None:
    from datetime import date

    from tests.linkage.helpers import person

    people = population()
    # The same woman registered twice, her day and month of birth swapped the second time: beyond the
    # registry's own check at intake (same family name within three days).
    first = person("Anna", "Pierre", date(1980, 5, 7), line="12 Bay Street")
    twin = person("Ann", "Pierre", date(1980, 7, 5), line="12 Bay Street")
    services.index_refresh()
    assert services.duplicates_find() >= 1
    from gov21.linkage.models import Duplicate
    from gov21.registry.models import Person

    pairs = {frozenset((d.uin_a, d.uin_b)) for d in Duplicate.objects.all()}
    assert frozenset((first.uin, twin.uin)) in pairs
    assert frozenset((people["mary"].uin, people["marie"].uin)) not in pairs
    assert Person.objects.filter(uin__in=[first.uin, twin.uin]).count() == 2


def test_a_run_of_an_unknown_or_empty_source_is_refused() -> None:
    with pytest.raises(DomainError) as unknown:
        services.run_start(source="nothing")
    assert unknown.value.status == 404

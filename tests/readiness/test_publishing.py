"""The ranking and the methodology are published on the data portal as open data, once per change."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.readiness.publishing import METHODOLOGY_DATASET, RANKING_DATASET, results_publish

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("exchange")
def test_the_ranking_and_its_methodology_are_published_as_open_data(egdi_loaded: list[int]) -> None:
    ranking, methodology = results_publish()
    assert (ranking.dataset, ranking.version, ranking.created) == (RANKING_DATASET, 1, True)
    assert (methodology.dataset, methodology.version) == (METHODOLOGY_DATASET, 1)
    # Nothing changed: no new version.
    again, _ = results_publish()
    assert (again.version, again.created) == (1, False)
    found = Client().get("/api/3/action/datastore_search", {"resource_id": ranking.resource_id, "limit": 1000})
    assert found.status_code == 200, found.content
    records = found.json()["result"]["records"]
    # Three survey years, CARICOM's 14 and CARIFORUM's 15 countries each.
    assert len(records) == 3 * (14 + 15)
    jam = next(r for r in records if (r["year"], r["country_group"], r["country_code"]) == (2018, "caricom", "JAM"))
    assert jam["rank_low"] <= jam["index_rank"] <= jam["rank_high"] and jam["egdi_rank"] >= 1
    assert len(jam["methodology_sha256"]) == 64


def test_nothing_is_published_before_a_survey_is_loaded() -> None:
    assert results_publish() == []


def test_an_import_queues_the_publication_for_the_worker(egdi_dir: object) -> None:
    from django.test import TestCase
    from django_tasks_db.models import DBTaskResult

    from gov21.readiness.contracts import EGDI_DIR
    from gov21.readiness.services import egdi_import

    with TestCase.captureOnCommitCallbacks(execute=True):
        egdi_import(content=(EGDI_DIR / "egdi-2018.csv").read_bytes(), year=2018)
    assert DBTaskResult.objects.filter(task_path__endswith="results_publish_task").count() == 1

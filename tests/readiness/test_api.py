from __future__ import annotations

import pytest
from django.test import Client

CARICOM = {"ATG", "BHS", "BRB", "BLZ", "DMA", "GRD", "GUY", "HTI", "JAM", "KNA", "LCA", "SUR", "TTO", "VCT"}


@pytest.mark.django_db
def test_the_egdi_ranking_of_caricom_needs_no_token(egdi_loaded: list[int]) -> None:
    answer = Client().get("/api/v1/readiness/rankings", {"index": "egdi", "year": 2018, "group": "caricom"})
    assert answer.status_code == 200
    body = answer.json()
    assert {c["country_code"] for c in body["countries"]} == CARICOM
    first = body["countries"][0]
    assert (first["country_code"], first["rank"], first["value"]) == ("BRB", 1, 0.7229)
    assert body["countries"][-1]["country_code"] == "HTI"
    assert [c["rank"] for c in body["countries"]] == list(range(1, 15))
    assert body["previous_year"] == 2016
    jamaica = next(c for c in body["countries"] if c["country_code"] == "JAM")
    assert jamaica["previous_rank"] is not None


@pytest.mark.django_db
def test_cariforum_adds_the_dominican_republic(egdi_loaded: list[int]) -> None:
    body = Client().get("/api/v1/readiness/rankings", {"year": 2018, "group": "cariforum"}).json()
    assert {c["country_code"] for c in body["countries"]} == CARICOM | {"DOM"}


@pytest.mark.django_db
def test_the_platforms_own_index_comes_with_rank_intervals(egdi_loaded: list[int]) -> None:
    body = Client().get("/api/v1/readiness/rankings", {"index": "21cg", "year": 2018, "group": "caricom"}).json()
    assert len(body["countries"]) == 14
    for c in body["countries"]:
        assert 1 <= c["rank_low"] <= c["rank_median"] <= c["rank_high"] <= 14
        assert 0 < c["value"] <= 1
        assert set(c["pillars"]) == {"citizen-centric", "participatory", "inter-connected", "capable"}
    assert body["countries"][0]["country_code"] == "BRB"
    assert body["methodology"]["version"] == "2026.2"
    assert len(body["methodology"]["sha256"]) == 64
    again = Client().get("/api/v1/readiness/rankings", {"index": "21cg", "year": 2018, "group": "caricom"}).json()
    assert again == body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"year": 2018, "group": "mercosur"}, 404, "group"),
        ({"year": 2012}, 404, "year"),
        ({"year": 2018, "index": "gtmi"}, 422, "index"),
        ({"year": "soon"}, 422, "year"),
        ({}, 422, "year"),
    ],
)
def test_bad_questions_get_problem_details(
    egdi_loaded: list[int], query: dict[str, object], status: int, field: str
) -> None:
    answer = Client().get("/api/v1/readiness/rankings", query)
    assert answer.status_code == status
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == field

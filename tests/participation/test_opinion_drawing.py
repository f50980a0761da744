"""The opinion map drawn on the server as an SVG figure with a title and a description, and its data
as a table: the same groups, sizes and places, in every language, with no script."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.tasks import opinion_map_refresh
from tests.identity.flows import OFFICER
from tests.participation.helpers import process
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def test_the_map_is_an_accessible_svg_with_its_data_as_a_table(client: Client) -> None:
    process("consultation")
    texts = ["Build the road", "Keep the forest", "Fund the clinic", "Raise taxes"]
    uin = register_person(OFFICER).uin
    statements = [services.statement_add(slug="p", uin=uin, level=SUBSTANTIAL, text=t) for t in texts]
    consultation = statements[0].process
    # Two camps: twelve people on one side, six on the other.
    for n in range(18):
        camp = n < 12
        for statement, value in zip(
            statements, [1 if camp else -1, -1 if camp else 1, 1, 1 if camp else -1], strict=True
        ):
            services.statement_vote_record(
                process=consultation, who=f"{n:064x}", statement_id=statement.pk, value=value
            )
    opinion_map_refresh.call(consultation.pk)

    for language in ("en", "fr"):
        page = client.get("/participation/p/", headers={"accept-language": language}).content.decode()
        svg = page.split('<figure id="opinion-map">')[1].split("</svg>")[0]
        assert 'role="img"' in svg and 'aria-labelledby="map-title map-desc"' in svg
        assert "<title" in svg and "<desc" in svg and "<script" not in page.split('id="opinion-map"')[1]
        circles = re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)" r="([0-9.]+)"', svg)
        assert len(circles) == 2
        assert all(0 <= float(v) <= 300 for c in circles for v in c[:2])
        # The larger group is drawn larger.
        radii = sorted(float(c[2]) for c in circles)
        assert radii[0] < radii[1]
        table = page.split('id="map-data"')[1].split("</table>")[0]
        sizes = sorted(int(n) for n in re.findall(r"</th><td>(\d+)</td>", table))
        assert sizes == [6, 12]

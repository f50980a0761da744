"""The national side of the regional hub: a country's signed-off self-assessments of a round, sent
to the hub through the exchange as ``DGO/readiness``; and on the hub, who speaks for which country."""

from __future__ import annotations

import orjson
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import Conflict, DomainError
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, exchange_json
from gov21.readiness.models import Assessment, RegionalMember, RegionalSubmission
from gov21.readiness.reference import countries, questionnaire

HUB_SERVICE = "GOV/DGO/readiness/regional"


def submission_build(*, round: int) -> dict[str, object]:
    """The country's submission for ``round``: each pillar's mean level over the agencies whose
    assessment of the round is signed off."""
    country = config.READINESS_COUNTRY.read()
    if country not in countries():
        raise DomainError(
            "no_country", _("Set GOV21_READINESS_COUNTRY to the country's ISO 3166 code first."), status=409
        )
    signed = list(Assessment.objects.filter(round=round, signed_off_at__isnull=False).prefetch_related("answers"))
    if not signed:
        raise Conflict("nothing_signed", _("No agency's assessment of %(round)s is signed off yet.") % {"round": round})
    levels = {
        pillar: sum(a.level for s in signed for a in s.answers.all() if a.pillar == pillar) / len(signed)
        for pillar in questionnaire().questions
    }
    return {"country_code": country, "round": round, "agencies": len(signed), "levels": levels}


def submission_send(*, round: int, actor: Principal) -> dict[str, object]:
    """Send the round's submission to the regional hub; the hub's receipt."""
    actor.require("readiness.review")
    hub = config.READINESS_HUB.read() or config.INSTANCE.read()
    body = submission_build(round=round)
    receipt = exchange_json(
        client=agency_client("DGO", "readiness"),
        service=f"{hub}/{HUB_SERVICE}",
        path="/submissions",
        method="POST",
        body=orjson.dumps(body),
        content_type="application/json",
        user_id=actor.name,
        issue=f"readiness round {round}",
    )
    return dict(receipt)


def member_register(*, instance: str, country_code: str) -> RegionalMember:
    """On the hub: ``instance`` speaks for ``country_code`` (its operator grants the access right
    with ``gov21 exchange right grant``)."""
    if country_code not in countries():
        raise DomainError("unknown_country", _("That is not the code of a UN member state."), field="country_code")
    try:
        with transaction.atomic():
            member, _created = RegionalMember.objects.update_or_create(
                instance=instance, defaults={"country_code": country_code}
            )
    except IntegrityError:
        raise Conflict(
            "country_taken", _("Another instance already speaks for that country."), field="country_code"
        ) from None
    return member


def submissions_for(*, year: int, survey_years: list[int]) -> dict[str, dict[str, float]]:
    """On the hub: for the UN survey of ``year``, each country's latest submission among the rounds
    that survey stands for, pillar -> level scaled to [0, 1]. A round belongs to the latest survey
    loaded whose year is not after it (rounds from ``year`` up to the next survey loaded), so the
    ranking of an earlier survey is not computed with a later round, and a survey a country sent no
    round for imputes it rather than borrowing another year's."""
    later = [y for y in survey_years if y > year]
    rows = RegionalSubmission.objects.filter(round__gte=year)
    if later:
        rows = rows.filter(round__lt=min(later))
    found: dict[str, dict[str, float]] = {}
    for row in rows.order_by("country_code", "-round"):
        if row.country_code not in found:
            found[row.country_code] = {k: float(v) / 4 for k, v in dict(row.levels).items()}
    return found

"""Many public assets entered in the register at once (the demo nation's seed, decision 0076): each
checked and filled by the same rules as ``services.asset_add`` (its kind's fields, its geometry, the
parish it lies in), then written with its first version in two batched inserts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from gov21.assets.models import Asset, AssetChange
from gov21.assets.records import AssetFacts
from gov21.assets.services import _assets_changed, _facts_check, _fill, _snapshot
from gov21.core.errors import DomainError


def assets_add_many(*, facts: Sequence[AssetFacts], changed_by: str, at: datetime) -> int:
    """Enter every asset of ``facts`` (codes not yet registered) as ``changed_by`` at ``at``, in the
    caller's database transaction; how many were entered."""
    codes = [f.code for f in facts]
    if len(set(codes)) != len(codes):
        twice = next(code for code in codes if codes.count(code) > 1)
        raise DomainError(
            "asset_exists", _("An asset with the code %(code)s is already registered.") % {"code": twice}, status=409
        )
    for start in range(0, len(codes), 900):
        taken = list(Asset.objects.filter(code__in=codes[start : start + 900]).values_list("code", flat=True)[:1])
        if taken:
            raise DomainError(
                "asset_exists",
                _("An asset with the code %(code)s is already registered.") % {"code": taken[0]},
                status=409,
                field="code",
            )
    assets = []
    for f in facts:
        geometry = _facts_check(f)
        asset = Asset(code=f.code, created_at=at, updated_at=at, version=1)
        _fill(asset, f, geometry)
        assets.append(asset)
    Asset.objects.bulk_create(assets, batch_size=2_000)
    _assets_changed()
    AssetChange.objects.bulk_create(
        (
            AssetChange(
                asset=a, version=1, data=_snapshot(a), reason="registered", changed_by=changed_by, changed_at=at
            )
            for a in assets
        ),
        batch_size=2_000,
    )
    return len(assets)

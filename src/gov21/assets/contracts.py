"""What other apps may use of the register of public assets: entering many assets at once (the demo
nation's seed, decision 0076)."""

from __future__ import annotations

from gov21.assets.bulk import assets_add_many
from gov21.assets.records import AssetFacts

__all__ = ["AssetFacts", "assets_add_many"]

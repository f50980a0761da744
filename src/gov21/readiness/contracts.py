"""What the rest of the platform may use of the readiness app: loading the UN E-Government
Survey years gov21 ships, so that a new platform shows the Caribbean ranking from the start."""

from __future__ import annotations

from gov21.readiness.services import EGDI_DIR, egdi_shipped, egdi_shipped_load

__all__ = ["EGDI_DIR", "egdi_shipped", "egdi_shipped_load"]

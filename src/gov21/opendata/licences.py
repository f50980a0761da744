"""The licences a dataset may carry (CKAN's ``license_list``), each with its SPDX identifier and URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    url: str
    od_conformance: str = "approved"


LICENCES: Final = (
    Licence("CC-BY-4.0", "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    Licence("CC0-1.0", "Creative Commons CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    Licence(
        "CC-BY-SA-4.0",
        "Creative Commons Attribution Share-Alike 4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    Licence("ODC-BY-1.0", "Open Data Commons Attribution License 1.0", "https://opendatacommons.org/licenses/by/1-0/"),
    Licence(
        "ODbL-1.0", "Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"
    ),
)
BY_ID: Final = {licence.id: licence for licence in LICENCES}
# DCAT's frequency words and the EU vocabulary's frequency codes.
FREQUENCIES: Final = {
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}

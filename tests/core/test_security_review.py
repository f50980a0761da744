"""docs/security.md reviews every OWASP ASVS 4.0.3 level-2 requirement, each with a status and a place
or a reason: a requirement left out, or a row without its evidence, fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATUSES = {"Met", "Partly", "Not met", "N/A"}
ROW = re.compile(r"^\| (V\d+\.\d+\.\d+) \| ([^|]+) \| ([^|]+) \| (.+) \|$", re.MULTILINE)


def _ids() -> list[str]:
    text = (ROOT / "docs/security/asvs-4.0.3-level2-ids.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_level_2_requirement_is_reviewed_once_with_a_status_and_evidence() -> None:
    rows = ROW.findall((ROOT / "docs/security.md").read_text(encoding="utf-8"))
    reviewed = [row[0] for row in rows]
    assert len(_ids()) == 259
    assert sorted(set(_ids()) - set(reviewed)) == []
    assert sorted(r for r in set(reviewed) if reviewed.count(r) > 1) == []
    for req_id, _summary, status, evidence in rows:
        assert status.strip() in STATUSES, f"{req_id}: status {status!r}"
        assert len(evidence.strip()) > 10, f"{req_id}: say where it is met or why it does not apply"


def test_files_the_review_names_exist() -> None:
    text = (ROOT / "docs/security.md").read_text(encoding="utf-8")
    missing = []
    for path in sorted(set(re.findall(r"`((?:[a-z_]+/)+[a-z_0-9.-]+\.(?:py|md|yaml))`", text))):
        candidates = [ROOT / path, ROOT / "src/gov21" / path]
        if not any(c.exists() for c in candidates) and "*" not in path:
            missing.append(path)
    assert missing == []

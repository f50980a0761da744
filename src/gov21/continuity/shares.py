"""The backup master key split into k-of-n recovery shares (SLIP-39, Trezor's shamir-mnemonic), so
that no single official holds it and losing one sheet loses nothing.

Each share is a sheet of words to print and hand to a custodian (a permanent secretary, the auditor
general, a partner state's CERT). Any k sheets rebuild the master key; fewer reveal nothing about it.
A sheet also carries the node's public signing keys, which are not secret, so that a restore on bare
hardware can check the manifests with the sheets alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shamir_mnemonic
from django.conf import settings

from gov21.continuity.engine import BackupError, HomeKeys

SHEET_HEADER = "gov21 backup recovery share"


def shares_make(keys: HomeKeys, *, threshold: int, count: int, holders: list[str] | None = None) -> list[str]:
    holders = holders or []
    if holders and len(holders) != count:
        raise BackupError("bad_holders", f"Name one custodian per sheet: {count} names, not {len(holders)}.")
    if not 1 <= threshold <= count <= 16:
        raise BackupError("bad_shares", "Choose 1 ≤ threshold ≤ shares ≤ 16 (for example 3 of 5).")
    if threshold == 1 and count > 1:
        raise BackupError("bad_shares", "A threshold of 1 would make every sheet a full copy of the key.")
    mnemonics = shamir_mnemonic.generate_mnemonics(1, [(threshold, count)], keys.master)[0]
    return [
        _sheet(words, keys, index + 1, threshold, count, holders[index] if holders else "")
        for index, words in enumerate(mnemonics)
    ]


def _sheet(words: str, keys: HomeKeys, index: int, threshold: int, count: int, holder: str) -> str:
    return "\n".join(
        [
            f"{SHEET_HEADER} {index} of {count} (any {threshold} rebuild the key)",
            f"key fingerprint: {keys.fingerprint}",
            f"custodian: {holder or '(write the name of the person who keeps this sheet)'}",
            "",
            "words:",
            words,
            "",
            "public signing keys (not secret):",
            json.dumps(keys.jwks, sort_keys=True),
            "",
        ]
    )


def keys_from_sheets(sheets: list[str]) -> HomeKeys:
    words: list[str] = []
    jwks: dict[str, Any] | None = None
    for sheet in sheets:
        lines = sheet.splitlines()
        if not lines or not lines[0].startswith(SHEET_HEADER):
            raise BackupError("bad_share", "That is not a gov21 recovery share sheet.")
        try:
            words.append(lines[lines.index("words:") + 1].strip())
            jwks = json.loads(lines[lines.index("public signing keys (not secret):") + 1])
        except (ValueError, IndexError) as error:
            raise BackupError("bad_share", "A recovery share sheet is incomplete.") from error
    try:
        master = shamir_mnemonic.combine_mnemonics(words)
    except shamir_mnemonic.MnemonicError as error:
        raise BackupError("bad_shares", f"The shares do not rebuild the key: {error}") from error
    return HomeKeys(master=master, jwks=jwks or {"keys": []})


def _record_path() -> Path:
    return Path(settings.DATA_DIR) / "keys" / "recovery-shares.json"


def record_shares(*, threshold: int, count: int, holders: list[str] | None = None) -> None:
    """Remember (not secret) that sheets were made, and who keeps them, for the continuity plan."""
    _record_path().write_text(
        json.dumps(
            {
                "threshold": threshold,
                "count": count,
                "holders": holders or [],
                "made": datetime.now(UTC).isoformat(),
            }
        )
    )


def shares_recorded() -> dict[str, Any] | None:
    path = _record_path()
    return dict(json.loads(path.read_text())) if path.exists() else None

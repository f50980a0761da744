"""The message log's hash chain: archiving sealed entries to files that verify on their own."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.exchange import chain, merkle, node
from gov21.exchange.contracts import exchange_call
from gov21.exchange.models import ChainHead, LogEntry, TreeHead

pytestmark = pytest.mark.usefixtures("exchange")

LOG = "log:main"


def _traffic(calls: int) -> None:
    """Messages through the exchange: each leaves a consumer and a provider entry in the log."""
    for _ in range(calls):
        result = exchange_call(
            client="XA/GOV/MSD/benefits", service="XA/GOV/CRO/civil-registry/persons", path="/0", issue="t"
        )
        assert result.error == ""


def _soon() -> Any:
    return timezone.now() + timedelta(seconds=1)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]


def _rewrite(path: Path, items: list[dict[str, Any]]) -> Path:
    out = path.with_name("rewritten.jsonl.gz")
    out.write_bytes(gzip.compress("".join(json.dumps(i) + "\n" for i in items).encode()))
    return out


def test_archiving_moves_sealed_entries_to_a_file_and_verification_carries_on(tmp_path: Path) -> None:
    _traffic(2)
    chain.seal(LOG, node.sign_bytes)
    _traffic(1)

    path = chain.archive(LOG, before=_soon(), out_dir=tmp_path, verify_signature=node.verify_own)

    assert path is not None and path.parent == tmp_path
    header, *rest = _lines(path)
    head = ChainHead.objects.get(chain=LOG)
    assert (header["chain"], header["first_seq"], header["last_seq"]) == (LOG, 1, 4)
    assert header["last_hash"] == head.archived_hash == TreeHead.objects.get(chain=LOG, last_seq=4).chain_hash
    assert head.archived_seq == 4
    assert [i["type"] for i in rest] == ["entry"] * 4 + ["head"]
    assert sorted(LogEntry.objects.filter(chain=LOG).values_list("seq", flat=True)) == [5, 6]

    archived = chain.verify_archive(path, node.verify_own)
    assert (archived.ok, archived.entries, archived.heads) == (True, 4, 1)
    _traffic(1)
    remaining = chain.verify(LOG, node.verify_own)
    assert (remaining.ok, remaining.entries) == (True, 4)


def test_a_second_archive_continues_where_the_first_ended(tmp_path: Path) -> None:
    _traffic(1)
    chain.seal(LOG, node.sign_bytes)
    first = chain.archive(LOG, before=_soon(), out_dir=tmp_path)
    _traffic(2)
    chain.seal(LOG, node.sign_bytes)

    second = chain.archive(LOG, before=_soon(), out_dir=tmp_path)

    assert first is not None and second is not None and first != second
    assert _lines(second)[0]["prev_hash"] == _lines(first)[0]["last_hash"]
    assert _lines(second)[0]["first_seq"] == 3
    assert all(chain.verify_archive(p, node.verify_own).ok for p in (first, second))
    assert not LogEntry.objects.filter(chain=LOG).exists()
    assert chain.verify(LOG, node.verify_own).ok


def test_only_entries_under_a_head_signed_before_the_date_are_archived(tmp_path: Path) -> None:
    _traffic(1)
    assert chain.archive(LOG, before=_soon(), out_dir=tmp_path) is None  # nothing sealed yet
    chain.seal(LOG, node.sign_bytes)
    assert chain.archive(LOG, before=timezone.now() - timedelta(days=1), out_dir=tmp_path) is None
    assert LogEntry.objects.filter(chain=LOG).count() == 2
    assert list(tmp_path.iterdir()) == []


def test_a_broken_chain_is_not_archived(tmp_path: Path) -> None:
    _traffic(2)
    chain.seal(LOG, node.sign_bytes)
    LogEntry.objects.filter(chain=LOG, seq=2).update(status=200)

    with pytest.raises(DomainError, match="Entry 2 of log:main: its content does not match its hash"):
        chain.archive(LOG, before=_soon(), out_dir=tmp_path)

    assert LogEntry.objects.filter(chain=LOG).count() == 4
    assert ChainHead.objects.get(chain=LOG).archived_seq == 0
    assert list(tmp_path.iterdir()) == []


def test_a_forged_tree_head_stops_archiving_when_signatures_are_checked(tmp_path: Path) -> None:
    _traffic(1)
    chain.seal(LOG, node.sign_bytes)
    TreeHead.objects.filter(chain=LOG).update(signature="AAAA")

    with pytest.raises(DomainError, match="tree head 2 signature is not valid"):
        chain.archive(LOG, before=_soon(), out_dir=tmp_path, verify_signature=node.verify_own)
    assert LogEntry.objects.filter(chain=LOG).count() == 2


@pytest.mark.parametrize(
    ("damage", "seq", "reason"),
    [
        (lambda items: items[:2] + items[3:], 2, "entry 2 is missing"),
        (lambda items: [*items[:3], {**items[3], "path": "/other"}, *items[4:]], 3, "does not match its hash"),
        (lambda items: items[:-1], 1, "not covered by a signed tree head"),
        (lambda items: [*items[:-1], {**items[-1], "signature": "AAAA"}], 1, "signature is not valid"),
        (lambda items: [{**items[0], "last_seq": 9}, *items[1:]], 5, "not at 9 as the header says"),
    ],
)
def test_a_damaged_archive_file_names_the_first_broken_entry(
    tmp_path: Path, damage: Any, seq: int, reason: str
) -> None:
    _traffic(2)
    chain.seal(LOG, node.sign_bytes)
    path = chain.archive(LOG, before=_soon(), out_dir=tmp_path)
    assert path is not None

    report = chain.verify_archive(_rewrite(path, damage(_lines(path))), node.verify_own)

    assert not report.ok
    assert report.first_broken == seq and reason in report.reason


def test_a_truncated_or_foreign_file_does_not_verify(tmp_path: Path) -> None:
    _traffic(2)
    chain.seal(LOG, node.sign_bytes)
    path = chain.archive(LOG, before=_soon(), out_dir=tmp_path)
    assert path is not None
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(path.read_bytes()[:-20])
    foreign = tmp_path / "foreign.jsonl.gz"
    foreign.write_bytes(gzip.compress(b'{"hello": "world"}\n'))

    assert not chain.verify_archive(truncated, node.verify_own).ok
    assert "not a chain archive" in chain.verify_archive(foreign, node.verify_own).reason


def test_an_inclusion_proof_verifies_until_its_entries_are_archived(tmp_path: Path) -> None:
    _traffic(3)
    chain.seal(LOG, node.sign_bytes)
    proof = chain.inclusion(LOG, 3)
    assert proof is not None

    assert merkle.verify_inclusion(
        proof.index,
        proof.size,
        merkle.leaf_hash(bytes.fromhex(proof.entry_hash)),
        [bytes.fromhex(p) for p in proof.path],
        bytes.fromhex(proof.head["root"]),
    )
    chain.archive(LOG, before=_soon(), out_dir=tmp_path)
    assert chain.inclusion(LOG, 3) is None

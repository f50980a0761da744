"""Someone with access to the database rewrites the message log: each way of doing it is named by
``gov21 exchange log verify`` and by the restore check, which an operator would run."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gov21.continuity.check import node_check
from gov21.exchange import chain, node
from gov21.exchange.contracts import exchange_call
from gov21.exchange.models import ChainHead, LogEntry, TreeHead

pytestmark = pytest.mark.usefixtures("exchange")

LOG = "log:main"
Commit = Callable[..., AbstractContextManager[Any]]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("exchange", *args, stdout=out, stderr=out)
    return out.getvalue()


def _traffic(calls: int) -> None:
    for _ in range(calls):
        result = exchange_call(
            client="XA/GOV/MSD/benefits", service="XA/GOV/CRO/civil-registry/persons", path="/0", issue="t"
        )
        assert result.error == ""


@pytest.fixture
def three_heads(exchange: None, django_capture_on_commit_callbacks: Commit) -> Iterator[None]:
    """Six messages (twelve entries) under three signed heads (4, 8, 12), each anchored once its
    seal committed, as the running gateway does, and two more entries not yet sealed."""
    for _ in range(3):
        _traffic(2)
        with django_capture_on_commit_callbacks(execute=True):
            chain.seal(LOG, node.sign_bytes)
    _traffic(1)
    assert run("log", "verify", "--chain", LOG).count("intact") == 1
    yield


def _broken(match: str) -> None:
    with pytest.raises(CommandError, match=match):
        run("log", "verify", "--chain", LOG)
    faults = node_check()["faults"]
    assert any(f.startswith(f"chain {LOG} breaks") and match.split(":")[-1].strip() in f for f in faults), faults


@pytest.mark.usefixtures("three_heads")
def test_a_head_deleted_from_the_middle_is_reported() -> None:
    TreeHead.objects.filter(chain=LOG, last_seq=8).delete()

    _broken("first broken entry 5: entries 5-8 are not covered by a signed tree head")


@pytest.mark.usefixtures("three_heads")
def test_the_newest_heads_deleted_are_reported_against_the_anchor() -> None:
    # A careful intruder also winds the chain's own record of the last seal back.
    TreeHead.objects.filter(chain=LOG, last_seq__gt=4).delete()
    ChainHead.objects.filter(chain=LOG).update(sealed_seq=4)

    _broken("first broken entry 5: the newest tree head anchored outside the database ends at entry 12")


@pytest.mark.usefixtures("three_heads")
def test_a_truncated_log_is_reported_against_the_anchor() -> None:
    # The newest heads and every entry after the first head go, and the chain head is rewound.
    TreeHead.objects.filter(chain=LOG, last_seq__gt=4).delete()
    LogEntry.objects.filter(chain=LOG, seq__gt=4).delete()
    last = LogEntry.objects.get(chain=LOG, seq=4)
    ChainHead.objects.filter(chain=LOG).update(seq=4, hash=last.entry_hash, sealed_seq=4)

    _broken("the newest tree head anchored outside the database ends at entry 12")


@pytest.mark.usefixtures("three_heads")
def test_an_edited_archive_pointer_is_reported() -> None:
    # The pointer moved past the first head, so verification would start after entries that stay.
    first = TreeHead.objects.get(chain=LOG, last_seq=4)
    ChainHead.objects.filter(chain=LOG).update(archived_seq=4, archived_hash=first.chain_hash)

    _broken("first broken entry 1: the archive pointer is not signed")


@pytest.mark.usefixtures("three_heads")
def test_an_entry_under_a_forged_archive_pointer_is_reported(tmp_path: Path) -> None:
    path = chain.archive(
        LOG, before=timezone.now() - timedelta(days=1), out_dir=tmp_path, verify_signature=node.verify_own
    )
    assert path is None
    # Nothing archived; the intruder claims entries 1-8 were, and edits entry 6 under that claim.
    second = TreeHead.objects.get(chain=LOG, last_seq=8)
    ChainHead.objects.filter(chain=LOG).update(archived_seq=8, archived_hash=second.chain_hash)
    LogEntry.objects.filter(chain=LOG, seq=6).update(status=200)

    _broken("the archive pointer is not signed")


@pytest.mark.usefixtures("three_heads")
def test_a_signed_archive_pointer_moved_to_a_later_head_is_reported(tmp_path: Path) -> None:
    path = chain.archive(LOG, before=timezone.now() + timedelta(seconds=1), out_dir=tmp_path)
    assert path is not None and run("log", "verify", "--chain", LOG).count("intact") == 1
    statement = chain.archive_statement(LOG)
    assert statement is not None and statement["archived_seq"] == 12
    second = TreeHead.objects.get(chain=LOG, last_seq=8)

    ChainHead.objects.filter(chain=LOG).update(archived_seq=8, archived_hash=second.chain_hash)

    _broken("the archive pointer does not match its signed statement")


def test_two_sealed_bodies_swapped_between_entries_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_EXCHANGE_LOG_BODIES", "true")
    _traffic(2)
    first, third = LogEntry.objects.get(chain=LOG, seq=1), LogEntry.objects.get(chain=LOG, seq=3)
    assert first.body is not None and third.body is not None
    assert run("log", "verify", "--chain", LOG).count("intact") == 1

    LogEntry.objects.filter(pk=first.pk).update(body=third.body)
    LogEntry.objects.filter(pk=third.pk).update(body=first.body)

    _broken("first broken entry 1: its sealed body does not open under this entry")


def test_heads_are_countersigned_and_a_token_that_does_not_match_is_reported(
    tsa: Any, django_capture_on_commit_callbacks: Commit
) -> None:
    for _ in range(2):
        _traffic(1)
        with django_capture_on_commit_callbacks(execute=True):
            chain.seal(LOG, node.sign_bytes)
    tokens = dict(TreeHead.objects.filter(chain=LOG).values_list("last_seq", "tsa_token"))
    assert all(tokens.values()) and len(tokens) == 2
    shown = run("log", "verify", "--chain", LOG)
    assert "2 heads countersigned, anchored outside the database" in shown and "intact" in shown

    # The token of head 4 is put on head 2: genuine, but it countersigns another head.
    TreeHead.objects.filter(chain=LOG, last_seq=2).update(tsa_token=tokens[4])

    _broken("first broken entry 1: tree head 2's timestamp token does not match it")


def test_a_token_from_another_authority_is_reported(
    tsa: Any, tmp_path: Path, django_capture_on_commit_callbacks: Commit
) -> None:
    from gov21.core import tsa as timestamping

    _traffic(1)
    with django_capture_on_commit_callbacks(execute=True):
        head = chain.seal(LOG, node.sign_bytes)
    assert head is not None
    stranger = timestamping.Authority.load(tmp_path / "stranger")
    reply = timestamping.Reply.load(stranger.reply(timestamping.query(bytes.fromhex(chain.head_digest(head)), nonce=1)))
    forged = base64.b64encode(reply["time_stamp_token"].dump()).decode()
    TreeHead.objects.filter(pk=head.pk).update(tsa_token=forged)

    _broken("not signed by the pinned timestamping authority")


def test_an_authority_that_is_down_leaves_heads_signed_and_log_anchor_countersigns_them_later(
    tsa: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Commit
) -> None:
    url = str(__import__("os").environ["GOV21_TSA_URL"])
    monkeypatch.setenv("GOV21_TSA_URL", "http://127.0.0.1:9/")
    _traffic(1)
    with django_capture_on_commit_callbacks(execute=True):
        chain.seal(LOG, node.sign_bytes)
    assert TreeHead.objects.get(chain=LOG).tsa_token == ""
    assert "0 heads countersigned" in run("log", "verify", "--chain", LOG)

    monkeypatch.setenv("GOV21_TSA_URL", url)
    assert f"{LOG}: 1 tree heads countersigned" in run("log", "anchor", "--chain", LOG)
    assert "1 heads countersigned" in run("log", "verify", "--chain", LOG)

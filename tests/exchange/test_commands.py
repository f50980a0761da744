"""``gov21 exchange``: the directory's administration and the log tools, driven as an operator would."""

from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from gov21.exchange import directory, node, pki, provider, router, setup
from gov21.exchange.contracts import ServiceRequest, ServiceResponse, exchange_call
from gov21.exchange.models import AccessRight, ChainHead, LocalService, LogEntry, Node, SigningCert, TreeHead
from gov21.exchange.office import key_fingerprint
from gov21.exchange.selectors import service_get
from gov21.exchange.services import node_request

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"
MSD = "XA/GOV/MSD/benefits"
STATS = "XA/GOV/STATS/statistics"
PERMITS = "XA/GOV/FISH/licences/permits"


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("exchange", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _traffic(calls: int) -> None:
    """Messages through the exchange: each leaves a consumer and a provider entry in log:main."""
    for _ in range(calls):
        result = exchange_call(client=MSD, service=PERSONS, path="/0000000000", issue="test")
        assert result.error == "" and result.status == 422  # the registry's answer, not the exchange's


def _permits(request: ServiceRequest) -> ServiceResponse:
    return ServiceResponse(200, orjson.dumps({"permit": request.path.strip("/"), "holder": request.client}))


# --- the directory ---------------------------------------------------------------------------------


def test_a_new_agency_publishes_a_service_that_works_once_a_right_is_granted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(router.LOCAL_HANDLERS, "permits", _permits)
    openapi = tmp_path / "permits.json"
    openapi.write_text(json.dumps({"openapi": "3.0.3", "paths": {"/{number}": {"get": {}}}}))

    assert "Member XA/GOV/FISH: Ministry of Fisheries" in run(
        "member", "add", "XA/GOV/FISH", "--name", "Ministry of Fisheries"
    )
    assert "Subsystem XA/GOV/FISH/licences on node main" in run(
        "subsystem", "add", "XA/GOV/FISH/licences", "--name", "Fishing licences"
    )
    added = run("service", "add", PERMITS, "--url", "local:permits", "--openapi", str(openapi), "--title", "Permits")
    assert "1 endpoints" in added
    assert "XA/GOV/FISH/licences\tFishing licences\tnode main" in run("member", "list")
    assert f"{PERMITS}\tlocal:permits\t1 endpoints\t0 rights" in run("service", "list")

    node.CONFS.clear()
    assert exchange_call(client=MSD, service=PERMITS, path="/77").error == "Server.ServerProxy.AccessDenied"

    granted = run("right", "grant", PERMITS, MSD, "--method", "get", "--path", "/*")
    assert f"Granted: {MSD} may GET /* on {PERMITS}" in granted
    assert f"{PERMITS}\t{MSD}\tGET\t/*" in run("right", "list", PERMITS)
    node.CONFS.clear()
    allowed = exchange_call(client=MSD, service=PERMITS, path="/77")
    assert allowed.status == 200, allowed.body
    assert allowed.json() == {"permit": "77", "holder": MSD}

    run("right", "revoke", PERMITS, MSD, "--method", "GET", "--path", "/*")
    assert "No access rights." in run("right", "list", PERMITS)
    node.CONFS.clear()
    assert exchange_call(client=MSD, service=PERMITS, path="/77").error == "Server.ServerProxy.AccessDenied"


def test_a_group_right_follows_the_membership_of_the_group() -> None:
    assert "2 members" in run("group", "set", "group:XA/statisticians", STATS, "XA/GOV/LTA/licensing")
    run("right", "grant", PERSONS, "group:XA/statisticians", "--method", "GET", "--path", "/*")
    node.CONFS.clear()
    assert exchange_call(client=STATS, service=PERSONS, path="/0000000000", issue="t").error == ""  # let through

    assert "1 members" in run("group", "set", "group:XA/statisticians", "XA/GOV/LTA/licensing")
    node.CONFS.clear()
    refused = exchange_call(client=STATS, service=PERSONS, path="/0000000000", issue="t")
    assert refused.error == "Server.ServerProxy.AccessDenied"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("member", "add", "XA-GOV-X", "--name", "X"), "is not a client identifier"),
        (("member", "add", "XB/GOV/X", "--name", "X"), "registers members of XA only"),
        (("subsystem", "add", "XA/GOV/NOBODY/sys"), "No member XA/GOV/NOBODY"),
        (("service", "add", "XA/GOV/CRO/civil-registry/x", "--url", "ftp://host"), "must be http"),
        (("right", "grant", PERSONS, MSD, "--method", "FETCH"), "Unknown HTTP method"),
        (("right", "revoke", PERSONS, STATS), "No such access right"),
        (("right", "list", "XA/GOV/CRO/civil-registry/nope"), "No service"),
        (("node", "approve", "nowhere"), "No node nowhere waiting"),
        (("node", "service", "add", "not/a/service", "--url", "http://x"), "Malformed"),
        (("log", "verify", "--chain", "log:elsewhere"), "There is no chain log:elsewhere"),
    ],
)
def test_bad_input_ends_with_a_one_line_reason(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message) as raised:
        run(*args)
    assert "\n" not in str(raised.value)


def test_an_openapi_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "api.json"
    broken.write_text("openapi: 3.0.3\n")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run("service", "add", PERSONS, "--url", "local:x", "--openapi", str(broken))
    with pytest.raises(CommandError, match="as JSON"):
        run("service", "add", PERSONS, "--url", "local:x", "--openapi", str(tmp_path / "api.yaml"))
    assert service_get(PERSONS).base_url != "local:x"


# --- nodes ---------------------------------------------------------------------------------------------


def _public_pem() -> str:
    return pki.public_key_pem(Ed25519PrivateKey.generate())


def test_a_pending_node_is_listed_with_its_key_fingerprint_then_approved_and_revoked() -> None:
    auth, signing = _public_pem(), _public_pem()
    node_request(
        code="north",
        owner="XA/GOV/MSD",
        address="https://north.example:5500",
        auth_public_key=auth,
        signing_keys={"XA/GOV/MSD": signing},
    )
    listed = run("node", "list")
    assert f"north\tpending\tXA/GOV/MSD\thttps://north.example:5500\tauth key sha256:{key_fingerprint(auth)}" in listed

    assert "1 signing certificate(s) issued" in run("node", "approve", "north")
    assert SigningCert.objects.get(node__code="north").status == Node.APPROVED
    assert "     2 nodes" in run("conf", "show")

    assert "revoked" in run("node", "revoke", "north")
    assert Node.objects.get(code="north").status == Node.REVOKED
    assert "     1 nodes" in run("conf", "show")


def test_joining_another_directory_sends_keys_whose_fingerprints_the_operator_reads_out(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchor_file = tmp_path / "anchor.json"
    assert "Fingerprint:" in run("anchor", "export", "--out", str(anchor_file), "--directory-url", "http://dir.xa")
    anchor = json.loads(anchor_file.read_text())
    invited = run("node", "invite", "far", "--owner", "XA/GOV/LTA")
    secret = next(line.split()[-1] for line in invited.splitlines() if line.startswith("Join secret"))
    directory_client = Client()

    class Answer:
        def __init__(self, status_code: int, body: bytes) -> None:
            self.status_code, self.content, self.text = status_code, body, body.decode()

        def json(self) -> Any:
            return json.loads(self.content)

    def post(url: str, *, json: Any, timeout: float) -> Answer:  # the directory, reached in-process
        assert url == "http://dir.xa/exchange/directory/join"
        response = directory_client.post(
            "/exchange/directory/join", orjson.dumps(json), content_type="application/json"
        )
        return Answer(response.status_code, response.content)

    monkeypatch.setattr(setup.httpx, "post", post)
    settings.DATA_DIR = tmp_path / "far-node"  # the joining node's own keys and node file
    node._node_cache.clear()

    printed = run(
        "node",
        "join",
        "--directory",
        "http://dir.xa",
        "--anchor",
        str(anchor_file),
        "--code",
        "far",
        "--owner",
        "XA/GOV/LTA",
        "--address",
        "https://far.example:5500",
        # One word: a base64url secret may begin with "-", which a separate argument would read as an option.
        f"--secret={secret}",
    )

    requested = Node.objects.get(code="far")
    assert requested.status == Node.PENDING
    assert "node XA/far is pending" in printed
    assert f"sha256:{anchor['fingerprint']}" in printed
    assert f"node authentication key\tsha256:{key_fingerprint(requested.auth_key_pem)}" in printed
    signing = SigningCert.objects.get(node=requested)
    assert f"signing key of XA/GOV/LTA\tsha256:{key_fingerprint(signing.public_key_pem)}" in printed
    assert node.this_node().directory == "http://dir.xa"


def test_a_node_local_service_address_takes_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(router.LOCAL_HANDLERS, "permits", _permits)

    assert "Added" in run("node", "service", "add", PERSONS, "--url", "local:permits", "--timeout", "5")
    assert "Updated" in run("node", "service", "add", PERSONS, "--url", "local:permits", "--timeout", "7")
    assert LocalService.objects.get(service_id=PERSONS).timeout_s == 7
    assert f"{PERSONS}\tlocal:permits\t7 s" in run("node", "service", "list")
    provider._address_cache.clear()

    assert exchange_call(client=MSD, service=PERSONS, path="/5").json() == {"permit": "5", "holder": MSD}


# --- federation and configuration ------------------------------------------------------------------------


def test_a_partner_anchor_is_trusted_only_when_its_fingerprint_matches(tmp_path: Path) -> None:
    own = tmp_path / "own.json"
    run("anchor", "export", "--out", str(own))
    with pytest.raises(CommandError, match="does not federate with itself"):
        run("trust", "add", str(own))

    partner = json.loads(own.read_text()) | {"instance": "XB", "directory": "https://xb.example"}
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(partner))  # still carries XA's fingerprint
    with pytest.raises(CommandError, match="does not match its content"):
        run("trust", "add", str(altered))
    assert "     0 trusted instances" in run("conf", "show")

    partner["fingerprint"] = directory.anchor_fingerprint(partner)
    genuine = tmp_path / "xb.json"
    genuine.write_text(json.dumps(partner))
    assert f"Fingerprint: {partner['fingerprint']}" in run("trust", "add", str(genuine))
    assert "     1 trusted instances" in run("conf", "show")


def test_conf_show_names_the_serial_expiry_and_contents() -> None:
    shown = run("conf", "show")
    serial = node.CONFS.own(origin="test").serial
    assert f"Configuration of XA, serial {serial}" in shown
    assert "expires" in shown and "EXPIRED" not in shown
    assert "    14 members" in shown
    assert f"{AccessRight.objects.count():>6} access rights" in shown


# --- logs -------------------------------------------------------------------------------------------------


def test_log_verify_passes_on_an_intact_log() -> None:
    _traffic(3)
    run("log", "seal")
    _traffic(1)

    shown = run("log", "verify")

    assert "log:main: 8 entries and 1 signed tree heads checked" in shown
    assert "entries/s" in shown and "log:main: intact" in shown


def test_log_verify_names_a_changed_entry() -> None:
    _traffic(3)
    LogEntry.objects.filter(chain="log:main", seq=4).update(client=STATS)

    with pytest.raises(CommandError, match="log:main: first broken entry 4: its content does not match its hash"):
        run("log", "verify")


def test_log_verify_names_a_removed_entry() -> None:
    _traffic(3)
    LogEntry.objects.filter(chain="log:main", seq=3).delete()

    with pytest.raises(CommandError, match="first broken entry 3: entry 3 is missing"):
        run("log", "verify", "--chain", "log:main")


def test_log_verify_names_a_forged_tree_head_signature() -> None:
    _traffic(2)
    assert "signed tree head over entries 1-4" in run("log", "seal")
    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(b"anything")).decode()
    TreeHead.objects.filter(chain="log:main").update(signature=forged)

    with pytest.raises(CommandError, match="first broken entry 1: tree head 4 signature is not valid"):
        run("log", "verify")


def test_log_proof_prints_a_proof_that_verifies() -> None:
    _traffic(3)
    with pytest.raises(CommandError, match="not covered by a signed tree head"):
        run("log", "proof", "5")
    run("log", "seal")

    printed = run("log", "proof", "5")

    proof = json.loads(printed[: printed.index("Inclusion proof")])
    assert (proof["seq"], proof["index"], proof["size"]) == (5, 4, 6)
    assert proof["entry_hash"] == LogEntry.objects.get(chain="log:main", seq=5).entry_hash
    assert "Inclusion proof verifies: yes" in printed and "Tree head signature: valid" in printed


def test_archiving_keeps_the_log_verifiable_and_the_archive_verifies(tmp_path: Path) -> None:
    _traffic(3)
    run("log", "seal")
    _traffic(1)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    archived = run("log", "archive", "--before", tomorrow, "--out", str(tmp_path))

    assert "log:main: 6 entries and 1 tree heads moved to" in archived and "(verified)" in archived
    assert list(LogEntry.objects.filter(chain="log:main").values_list("seq", flat=True)) == [7, 8]
    assert ChainHead.objects.get(chain="log:main").archived_seq == 6
    _traffic(1)
    assert "log:main: 4 entries and 0 signed tree heads checked" in run("log", "verify")
    (archive,) = tmp_path.glob("log_main-*.jsonl.gz")
    assert "6 entries and 1 signed tree heads checked" in run("log", "verify-archive", str(archive))

    lines = gzip.decompress(archive.read_bytes()).decode().splitlines()
    lines[2] = lines[2].replace(MSD, STATS)
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(CommandError, match="first broken entry 2: its content does not match its hash"):
        run("log", "verify-archive", str(damaged))
    assert "nothing sealed before" in run("log", "archive", "--before", tomorrow, "--out", str(tmp_path))

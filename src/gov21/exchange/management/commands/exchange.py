"""``gov21 exchange``: the directory of the instance (members, subsystems, services, access rights,
groups, nodes, federation), this node's joining and local service addresses, and its
tamper-evident logs.

Each subcommand is one ``_<area>_<action>(command, options)`` function and one parser entry in
:meth:`Command.add_arguments` that names it with ``set_defaults(run=...)``.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeAlias

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from gov21.audit.contracts import (
    ACCESS_CHAIN,
    access_log_anchor,
    access_log_exists,
    access_log_seal,
    access_log_verify,
)
from gov21.core import config
from gov21.core.errors import DomainError
from gov21.exchange import chain, directory, merkle, node, pki, setup
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import ClientId, ServiceId
from gov21.exchange.models import AccessRight, ChainHead, LocalService, Member, Node, Service
from gov21.exchange.office import key_fingerprint
from gov21.exchange.selectors import service_get
from gov21.exchange.services import (
    INVITATION_HOURS,
    group_set,
    member_add,
    node_approve,
    node_invite,
    node_revoke,
    right_grant,
    right_revoke,
    service_add,
    subsystem_add,
    trust_add,
)

Options = dict[str, Any]
Run = Callable[["Command", Options], None]
Actions: TypeAlias = "argparse._SubParsersAction[CommandParser]"


class Command(BaseCommand):
    help = (
        "The data exchange: members, subsystems, services, access rights and nodes of the directory; "
        "joining a node; verifying, sealing and archiving the message logs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        areas = parser.add_subparsers(dest="area", required=True, metavar="AREA")

        member = _area(areas, "member", "Members: the agencies and organisations of the instance.")
        add = _action(member, "add", _member_add, "Register a member (INSTANCE/CLASS/CODE).")
        add.add_argument("ident", metavar="MEMBER")
        add.add_argument("--name", required=True)
        _action(member, "list", _member_list, "List members and their subsystems.")

        subsystem = _area(areas, "subsystem", "Subsystems: the information systems of a member.")
        add = _action(subsystem, "add", _subsystem_add, "Register a subsystem (INSTANCE/CLASS/CODE/SUBSYSTEM).")
        add.add_argument("ident", metavar="SUBSYSTEM")
        add.add_argument("--name", default="")
        add.add_argument("--node", default="", help="Code of the node that hosts it (default: this node).")

        service = _area(areas, "service", "Services that subsystems provide.")
        add = _action(service, "add", _service_add, "Register or update a service.")
        add.add_argument("ident", metavar="SERVICE")
        add.add_argument("--url", required=True, help="http(s)://… or local:<name>.")
        add.add_argument("--openapi", type=Path, metavar="FILE.json", help="Its OpenAPI 3 description (JSON).")
        add.add_argument("--title", default="")
        add.add_argument("--timeout", type=int, default=30, metavar="SECONDS")
        _action(service, "list", _service_list, "List services with their addresses and rights.")

        right = _area(areas, "right", "Access rights: who may call which service endpoints.")
        for name, run, text in (
            ("grant", _right_grant, "Allow a client, member or group:INSTANCE/CODE to call a service."),
            ("revoke", _right_revoke, "Withdraw an access right (same arguments as grant)."),
        ):
            action = _action(right, name, run, text)
            action.add_argument("service", metavar="SERVICE")
            action.add_argument("subject", metavar="SUBJECT")
            action.add_argument("--method", default="*", help="An HTTP method or * (default).")
            action.add_argument("--path", default="/**", help="Endpoint path; * is one segment, ** any (default /**).")
        listing = _action(right, "list", _right_list, "List access rights, of one service or all.")
        listing.add_argument("service", metavar="SERVICE", nargs="?")

        group = _area(areas, "group", "Groups of clients, usable as the subject of a right.")
        put = _action(group, "set", _group_set, "Set the members of a group (created if new).")
        put.add_argument("ident", metavar="group:INSTANCE/CODE")
        put.add_argument("members", metavar="CLIENT", nargs="*")
        put.add_argument("--description", default="")

        nodes = _area(areas, "node", "Gateway nodes: admission to the directory, joining, local services.")
        _action(nodes, "list", _node_list, "List nodes with their status and key fingerprints.")
        invite = _action(nodes, "invite", _node_invite, "Expect a node: print the one-time secret it joins with.")
        invite.add_argument("code", metavar="CODE", help="The code the node will have.")
        invite.add_argument("--owner", required=True, metavar="INSTANCE/CLASS/CODE", help="The member running it.")
        invite.add_argument(
            "--hours", type=int, default=INVITATION_HOURS, help="How long the secret is valid (default 72)."
        )
        for name, run, text in (
            ("approve", _node_approve, "Admit a pending node: issue its certificates."),
            ("revoke", _node_revoke, "Revoke a node and its signing certificates."),
        ):
            _action(nodes, name, run, text).add_argument("code", metavar="CODE")
        join = _action(nodes, "join", _node_join, "Ask another deployment's directory to admit this node.")
        join.add_argument("--directory", required=True, metavar="URL", help="Base URL of the directory.")
        join.add_argument("--anchor", required=True, type=Path, metavar="FILE", help="The instance's anchor (JSON).")
        join.add_argument("--code", required=True, help="This node's code.")
        join.add_argument("--owner", required=True, metavar="INSTANCE/CLASS/CODE", help="The member running it.")
        join.add_argument("--address", required=True, metavar="https://host:port")
        join.add_argument("--secret", required=True, help="The secret of this node's invitation (node invite).")
        serve = _action(nodes, "serve", _node_serve, "Run this node: client interface and mutual-TLS node interface.")
        serve.add_argument(
            "--listen",
            default="127.0.0.1:8080",
            metavar="HOST:PORT",
            help="Client interface (r1) for this node's information systems: loopback or an internal network.",
        )
        serve.add_argument("--node-listen", default="127.0.0.1:5500", metavar="HOST:PORT", help="Node interface.")
        serve.add_argument(
            "--workers", type=int, default=2, help="Gateway processes, one per core, each serving every listener."
        )
        serve.add_argument(
            "--threads", type=int, default=4, help="Threads per process for sync work (local services, metaservices)."
        )
        serve.add_argument("--address", default="", metavar="https://host:port", help="Published node address.")
        serve.add_argument("--client-tls-listen", default="", metavar="HOST:PORT", help="HTTPS client interface.")
        serve.add_argument(
            "--public-listen",
            default="",
            metavar="HOST:PORT",
            help="Also serve the platform (portal, APIs, /exchange/conf) here, when gov21 up does not.",
        )
        clients = _area(nodes, "client", "How this node's information systems connect (http or https).")
        rule = _action(clients, "set", _node_client_set, "Set a client's connection type and certificates.")
        rule.add_argument("client_id", metavar="CLIENT")
        rule.add_argument(
            "--connection",
            choices=["http", "https"],
            required=True,
            help="https: TLS with one of the --cert certificates; http: plain HTTP, accepted from loopback "
            "and GOV21_EXCHANGE_HTTP_CLIENT_NETWORKS only.",
        )
        rule.add_argument("--cert", type=Path, action="append", default=[], metavar="FILE.pem")
        _action(clients, "list", _node_client_list, "List the clients' connection types.")
        local = _area(nodes, "service", "Where this node's own services live (when the directory is elsewhere).")
        add = _action(local, "add", _node_service_add, "Map a service to its address on this node.")
        add.add_argument("service_id", metavar="SERVICE")
        add.add_argument("--url", required=True, help="http(s)://… or local:<name>.")
        add.add_argument("--timeout", type=int, default=30, metavar="SECONDS")
        add.add_argument("--openapi", type=Path, metavar="FILE.json")
        _action(local, "list", _node_service_list, "List this node's service addresses.")

        anchor = _area(areas, "anchor", "The anchor partners import to trust this instance.")
        export = _action(anchor, "export", _anchor_export, "Print or write this instance's anchor.")
        export.add_argument("--out", type=Path, metavar="FILE")
        export.add_argument("--directory-url", default="", metavar="URL", help="Default: GOV21_BASE_URL.")

        trust = _area(areas, "trust", "Federation with partner instances.")
        _action(trust, "add", _trust_add, "Trust a partner instance's anchor.").add_argument("file", type=Path)

        conf = _area(areas, "conf", "The signed configuration nodes work from.")
        _action(conf, "show", _conf_show, "Serial, expiry and contents of the current configuration.")

        log = _area(
            areas,
            "log",
            "This node's message and data-use logs and the registry's access log (hash chains with signed, "
            "countersigned tree heads).",
        )
        verify = _action(
            log, "verify", _log_verify, "Check every link, entry, signed tree head, countersignature and anchor."
        )
        verify.add_argument("--chain", help="One chain, e.g. log:main or access (default: every chain).")
        files = _action(log, "verify-archive", _log_verify_archive, "Check archive files written by log archive.")
        files.add_argument("files", type=Path, nargs="+", metavar="FILE")
        seal = _action(log, "seal", _log_seal, "Sign a tree head over the entries not yet covered by one.")
        seal.add_argument("--chain", help="Default: this node's message and data-use logs and the access log.")
        anchoring = _action(
            log,
            "anchor",
            _log_anchor,
            "Have heads still without a countersignature countersigned (GOV21_TSA_URL); record the newest head "
            "outside the database.",
        )
        anchoring.add_argument("--chain", help="Default: every chain.")
        proof = _action(log, "proof", _log_proof, "An entry's inclusion proof, as JSON, and whether it verifies.")
        proof.add_argument("seq", type=int, metavar="SEQ")
        proof.add_argument("--chain", help="Default: this node's message log.")
        archive = _action(log, "archive", _log_archive, "Move sealed entries older than a date to files.")
        archive.add_argument("--before", required=True, type=_day, metavar="YYYY-MM-DD")
        archive.add_argument("--out", required=True, type=Path, metavar="DIR")
        archive.add_argument("--chain", help="Default: every chain.")

        deliver = _action(areas, "deliver", _deliver, "Push published events to subscribers, with retries.")
        deliver.add_argument("--every", type=float, default=0, metavar="SECONDS", help="Repeat (default: once).")

    def handle(self, *args: Any, **options: Any) -> None:
        run: Run = options["run"]
        try:
            run(self, options)
        except DomainError as error:
            raise CommandError(_one_line(error.detail)) from error
        except XRoadError as error:
            raise CommandError(_one_line(f"{error.type}: {error.message}")) from error

    def say(self, text: str = "") -> None:
        self.stdout.write(text)


def _area(areas: Actions, name: str, text: str) -> Actions:
    parser = areas.add_parser(name, help=text, description=text)
    return parser.add_subparsers(dest=f"{name}_action", required=True, metavar="ACTION")


def _action(actions: Actions, name: str, run: Run, text: str) -> CommandParser:
    parser = actions.add_parser(name, help=text, description=text)
    parser.set_defaults(run=run)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _operator() -> str:
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if path.suffix.lower() in (".yaml", ".yml"):
        raise CommandError(f"Give the {what} as JSON; YAML is not read.")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from error
    except ValueError as error:
        raise CommandError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise CommandError(f"{path} does not hold a JSON object ({what}).")
    return value


def _instance() -> str:
    return config.INSTANCE.read()


# --- the directory ------------------------------------------------------------------------------


def _member_add(cmd: Command, o: Options) -> None:
    member = member_add(ident=o["ident"], name=o["name"])
    cmd.say(f"Member {member}: {member.name}")


def _member_list(cmd: Command, o: Options) -> None:
    members = (
        Member.objects.filter(instance=_instance()).prefetch_related("subsystems").order_by("member_class", "code")
    )
    for member in members:
        cmd.say(f"{member}\t{member.name}")
        for sub in sorted(member.subsystems.all(), key=lambda s: s.code):
            cmd.say(f"  {sub}\t{sub.name or '-'}\tnode {sub.node or '-'}")
    if not members:
        cmd.say("No members yet: gov21 exchange member add INSTANCE/CLASS/CODE --name NAME")


def _subsystem_add(cmd: Command, o: Options) -> None:
    sub = subsystem_add(ident=o["ident"], name=o["name"], node=o["node"])
    # On the directory's own node the member's signing certificate is issued here and now (a no-op
    # for a subsystem hosted elsewhere: that node asks for it when it joins).
    setup.member_cert_ensure(member=str(sub.member), node_code=sub.node)
    cmd.say(f"Subsystem {sub} on node {sub.node}.")


def _service_add(cmd: Command, o: Options) -> None:
    openapi = _read_json(o["openapi"], "OpenAPI description") if o["openapi"] else None
    service = service_add(
        ident=o["ident"], base_url=o["url"], openapi=openapi, title=o["title"], timeout_s=o["timeout"]
    )
    endpoints = directory.endpoints_of(service.openapi)
    cmd.say(f"Service {service} → {service.base_url} ({len(endpoints)} endpoints, timeout {service.timeout_s} s).")


def _service_list(cmd: Command, o: Options) -> None:
    services = (
        Service.objects.filter(subsystem__member__instance=_instance())
        .select_related("subsystem__member")
        .annotate(right_count=Count("rights"))
        .order_by("subsystem__member__code", "subsystem__code", "code")
    )
    for service in services:
        state = "  DISABLED" if service.disabled else ""
        cmd.say(
            f"{service}\t{service.base_url}\t{len(directory.endpoints_of(service.openapi))} endpoints\t"
            f"{service.right_count} rights{state}"
        )


def _right_text(right: AccessRight) -> str:
    return f"{right.subject} may {right.method} {right.path} on {right.service}"


def _right_grant(cmd: Command, o: Options) -> None:
    right = right_grant(service=o["service"], subject=o["subject"], method=o["method"], path=o["path"], by=_operator())
    cmd.say(f"Granted: {_right_text(right)}")


def _right_revoke(cmd: Command, o: Options) -> None:
    right_revoke(service=o["service"], subject=o["subject"], method=o["method"], path=o["path"])
    cmd.say(f"Revoked: {o['subject']} {o['method'].upper()} {o['path']} on {o['service']}")


def _right_list(cmd: Command, o: Options) -> None:
    rights = AccessRight.objects.filter(service__subsystem__member__instance=_instance())
    if o["service"]:
        rights = rights.filter(service=service_get(o["service"]))
    rights = rights.select_related("service__subsystem__member").order_by(
        "service__subsystem__member__code", "service__subsystem__code", "service__code", "subject", "method", "path"
    )
    for right in rights:
        cmd.say(f"{right.service}\t{right.subject}\t{right.method}\t{right.path}\t{right.granted_by or '-'}")
    if not rights:
        cmd.say("No access rights.")


def _group_set(cmd: Command, o: Options) -> None:
    group = group_set(ident=o["ident"], members=o["members"], description=o["description"])
    cmd.say(f"{group}: {len(group.members)} members")
    for member in group.members:
        cmd.say(f"  {member}")


# --- nodes ----------------------------------------------------------------------------------------


def _node_list(cmd: Command, o: Options) -> None:
    nodes = Node.objects.filter(instance=_instance()).select_related("owner").order_by("code")
    for row in nodes:
        key = key_fingerprint(row.auth_key_pem) if row.auth_key_pem else "-"
        cmd.say(f"{row.code}\t{row.status}\t{row.owner}\t{row.address or '-'}\tauth key sha256:{key}")
    if not nodes:
        cmd.say("No nodes.")


def _node_invite(cmd: Command, o: Options) -> None:
    invitation, secret = node_invite(code=o["code"], owner=o["owner"], by=_operator(), valid_hours=o["hours"])
    expires = invitation.expires_at.astimezone(UTC)
    cmd.say(f"Node {invitation.instance}/{invitation.code} of {invitation.owner} is invited.")
    cmd.say(f"Join secret (shown once; give it to the node's operator by a trusted channel): {secret}")
    cmd.say(f"It expires {expires:%Y-%m-%d %H:%M} UTC and admits one join request.")


def _node_approve(cmd: Command, o: Options) -> None:
    try:
        row = node_approve(code=o["code"], by=_operator())
    except ValueError as error:  # a key in the join request that is not an Ed25519 public key
        raise CommandError(f"Node {o['code']} sent a key that cannot be used ({error}); revoke its request.") from error
    signing = row.signing_certs.filter(status=Node.APPROVED).count()
    cmd.say(f"Node {row} approved: authentication certificate and {signing} signing certificate(s) issued.")


def _node_revoke(cmd: Command, o: Options) -> None:
    row = node_revoke(code=o["code"], by=_operator())
    cmd.say(f"Node {row} revoked, with its signing certificates.")


def _node_join(cmd: Command, o: Options) -> None:
    anchor = _read_json(o["anchor"], "anchor")
    answer = setup.join_request(
        directory_url=o["directory"],
        anchor=anchor,
        code=o["code"],
        owner=o["owner"],
        address=o["address"],
        secret=o["secret"],
    )
    this = node.this_node()
    owner = ClientId.parse(o["owner"])
    auth = key_fingerprint(pki.public_key_pem(node.auth_key(this)))
    signing = key_fingerprint(pki.public_key_pem(node.signing_key(owner, this)))
    cmd.say(f"Join request sent to {o['directory']}: node {answer.get('node', this.ident)} is {answer.get('status')}.")
    cmd.say("Compare these fingerprints with the directory's administrator by phone before they approve:")
    cmd.say(f"  instance anchor ({anchor.get('instance')})\tsha256:{anchor.get('fingerprint')}")
    cmd.say(f"  node authentication key\tsha256:{auth}")
    cmd.say(f"  signing key of {owner.member}\tsha256:{signing}")


def _node_serve(cmd: Command, o: Options) -> None:
    from gov21.exchange import serve, setup

    this = node.this_node()
    if not this.directory:
        # The directory lives here: publish where this node's interface answers.
        address = o["address"] or f"https://{o['node_listen']}"
        setup.local_node_ensure(owner=f"{this.instance}/GOV/EXCHANGE", address=address)
    cmd.stdout.write(
        f"Node {this.ident}: client interface http://{o['listen']}/r1/, node interface https://{o['node_listen']}"
        + (f", platform http://{o['public_listen']}/" if o["public_listen"] else "")
    )
    code = serve.run(
        listen=o["listen"],
        node_listen=o["node_listen"],
        workers=o["workers"],
        threads=o["threads"],
        client_tls_listen=o["client_tls_listen"],
        public_listen=o["public_listen"],
    )
    if code:
        raise CommandError(f"a listener stopped with exit code {code}")


def _node_client_set(cmd: Command, o: Options) -> None:
    from gov21.exchange.ids import ClientId
    from gov21.exchange.models import LocalClient

    client = str(ClientId.parse(o["client_id"]))
    pems = []
    for path in o["cert"]:
        try:
            pem = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        pki.load_cert(pem)  # refuses what is not a certificate
        pems.append(pem)
    if o["connection"] == "https" and not pems:
        raise CommandError("an https client needs at least one --cert")
    LocalClient.objects.update_or_create(
        client_id=client, defaults={"connection": o["connection"], "certificates": pems}
    )
    cmd.stdout.write(f"{client}: {o['connection']}" + "".join(f"\n  certificate {pki.fingerprint(p)}" for p in pems))


def _node_client_list(cmd: Command, o: Options) -> None:
    from gov21.exchange.models import LocalClient

    for row in LocalClient.objects.order_by("client_id"):
        cmd.stdout.write(f"{row.client_id}\t{row.connection}\t{len(row.certificates)} certificate(s)")
    cmd.stdout.write(f"(others: {config.EXCHANGE_CLIENT_CONNECTION.read()})")


def _deliver(cmd: Command, o: Options) -> None:
    from gov21.exchange import pubsub

    if o["every"] > 0:
        pubsub.deliveries_loop(interval=o["every"], stop_after=None)
        return
    cmd.stdout.write(f"{pubsub.deliveries_run()} events delivered")


def _node_service_add(cmd: Command, o: Options) -> None:
    service_id = ServiceId.parse(o["service_id"])
    url: str = o["url"]
    if not url.startswith(("http://", "https://", "local:")):
        raise CommandError("The service address must be http(s)://… or local:<name>.")
    if not 1 <= o["timeout"] <= 3600:
        raise CommandError("The timeout is between 1 and 3600 seconds.")
    defaults: dict[str, Any] = {"base_url": url, "timeout_s": o["timeout"]}
    if o["openapi"]:
        openapi = _read_json(o["openapi"], "OpenAPI description")
        if not isinstance(openapi.get("paths"), dict):
            raise CommandError("The OpenAPI 3 document has no paths.")
        defaults["openapi"] = openapi
    _, created = LocalService.objects.update_or_create(service_id=str(service_id), defaults=defaults)
    cmd.say(f"{'Added' if created else 'Updated'}: {service_id} → {url} (timeout {o['timeout']} s).")


def _node_service_list(cmd: Command, o: Options) -> None:
    rows = LocalService.objects.order_by("service_id")
    for row in rows:
        cmd.say(f"{row.service_id}\t{row.base_url}\t{row.timeout_s} s\t{'OpenAPI' if row.openapi else '-'}")
    if not rows:
        cmd.say("No node-local service addresses.")


# --- federation and configuration -----------------------------------------------------------------


def _anchor_export(cmd: Command, o: Options) -> None:
    anchor = directory.anchor_export(directory_url=o["directory_url"] or settings.BASE_URL)
    text = json.dumps(anchor, indent=2) + "\n"
    if o["out"] is None:
        cmd.stdout.write(text, ending="")
        cmd.stderr.write(f"Fingerprint: {anchor['fingerprint']}")
        return
    o["out"].write_text(text, encoding="utf-8")
    cmd.say(f"Anchor of {anchor['instance']} written to {o['out']}.")
    cmd.say(f"Fingerprint: {anchor['fingerprint']} (read it to the partner's administrator by phone)")


def _trust_add(cmd: Command, o: Options) -> None:
    anchor = _read_json(o["file"], "anchor")
    with transaction.atomic():
        trusted = trust_add(anchor=anchor)
        claimed = anchor.get("fingerprint")
        if claimed and claimed != trusted.anchor["fingerprint"]:
            raise CommandError("The anchor's fingerprint does not match its content; it was altered. Nothing changed.")
    cmd.say(f"Trusting instance {trusted.instance} (directory {trusted.anchor['directory']}).")
    cmd.say(f"Fingerprint: {trusted.anchor['fingerprint']} (compare it with the partner's administrator)")


def _conf_show(cmd: Command, o: Options) -> None:
    node.CONFS.clear()  # the newest configuration, verified as a node starting now would
    conf = node.CONFS.own(origin="Server.ClientProxy")
    p = conf.payload
    expires = datetime.fromtimestamp(conf.expires_at, tz=UTC)
    cmd.say(f"Configuration of {conf.instance}, serial {conf.serial}")
    cmd.say(f"  issued  {datetime.fromtimestamp(int(p['issued_at']), tz=UTC):%Y-%m-%d %H:%M:%S} UTC")
    cmd.say(f"  expires {expires:%Y-%m-%d %H:%M:%S} UTC{'' if conf.fresh else '  (EXPIRED)'}")
    counts = {
        "members": len(p["members"]),
        "subsystems": len(p["subsystems"]),
        "services": len(p["services"]),
        "access rights": sum(len(r) for r in p["rights"].values()),
        "groups": len(p["groups"]),
        "nodes": len(p["nodes"]),
        "signing certificates": len(p["certs"]),
        "revoked certificates": len(p["revoked"]),
        "trusted instances": len(p["trusted"]),
    }
    for name, count in counts.items():
        cmd.say(f"  {count:>6} {name}")


# --- logs -------------------------------------------------------------------------------------------


def _chains(o: Options, default: list[str] | None = None) -> list[str]:
    """The chains a log command works on: the exchange's, then the access log."""
    existing = list(ChainHead.objects.order_by("chain").values_list("chain", flat=True))
    if access_log_exists():
        existing.append(ACCESS_CHAIN)
    if o.get("chain"):
        if o["chain"] not in existing:
            raise CommandError(f"There is no chain {o['chain']}.")
        return [o["chain"]]
    return existing if default is None else [c for c in default if c in existing]


def _report_line(report: chain.VerifyReport, seconds: float) -> str:
    rate = report.entries / seconds if seconds > 0 else 0.0
    return (
        f"{report.chain}: {report.entries} entries and {report.heads} signed tree heads checked "
        f"in {seconds:.2f} s ({rate:,.0f} entries/s); {report.countersigned} heads countersigned, "
        f"{'anchored outside the database' if report.anchored else 'no anchor outside the database yet'}"
    )


def _verify_one(name: str) -> chain.VerifyReport:
    return access_log_verify() if name == ACCESS_CHAIN else chain.verify(name, node.verify_own)


def _log_verify(cmd: Command, o: Options) -> None:
    chains = _chains(o)
    if not chains:
        cmd.say("No logs yet.")
    broken = []
    for name in chains:
        started = time.perf_counter()
        report = _verify_one(name)
        cmd.say(_report_line(report, time.perf_counter() - started))
        if report.ok:
            cmd.say(f"{name}: intact")
        else:
            broken.append(f"{name}: first broken entry {report.first_broken}: {report.reason}")
            cmd.say(broken[-1])
    if broken:
        raise CommandError(_one_line("; ".join(broken)))


def _log_verify_archive(cmd: Command, o: Options) -> None:
    broken = []
    for path in o["files"]:
        started = time.perf_counter()
        report = chain.verify_archive(path, node.verify_own)
        cmd.say(f"{path}: " + _report_line(report, time.perf_counter() - started))
        if not report.ok:
            broken.append(f"{path}: first broken entry {report.first_broken}: {report.reason}")
            cmd.say(broken[-1])
    if broken:
        raise CommandError(_one_line("; ".join(broken)))


def _log_seal(cmd: Command, o: Options) -> None:
    this = node.this_node()
    chains = _chains(o, default=[this.log_chain, this.uses_chain, ACCESS_CHAIN])
    if not chains:
        cmd.say("No logs yet.")
    for name in chains:
        head = access_log_seal() if name == ACCESS_CHAIN else chain.seal(name, node.sign_bytes)
        if head is None:
            cmd.say(f"{name}: every entry is already covered by a signed tree head.")
        else:
            cmd.say(f"{name}: signed tree head over entries {head.first_seq}-{head.last_seq}, root {head.root}")


def _log_anchor(cmd: Command, o: Options) -> None:
    for name in _chains(o):
        stamped = access_log_anchor() if name == ACCESS_CHAIN else chain.anchor(name)
        cmd.say(f"{name}: {stamped} tree heads countersigned; the newest head is recorded outside the database.")


def _log_proof(cmd: Command, o: Options) -> None:
    name = o["chain"] or node.this_node().log_chain
    proof = chain.inclusion(name, o["seq"])
    if proof is None:
        raise CommandError(
            f"Entry {o['seq']} of {name} is not covered by a signed tree head in the database "
            "(not sealed yet: gov21 exchange log seal; or archived; or no such entry)."
        )
    head = proof.head
    included = merkle.verify_inclusion(
        proof.index,
        proof.size,
        merkle.leaf_hash(bytes.fromhex(proof.entry_hash)),
        [bytes.fromhex(p) for p in proof.path],
        bytes.fromhex(head["root"]),
    )
    message = chain.head_message(
        name,
        head["first"],
        head["last"],
        head["root"],
        head["chain_hash"],
        datetime.fromisoformat(head["at"]),
        head["prev"],
    )
    signed = node.verify_own(message, base64.b64decode(head["signature"]))
    cmd.say(json.dumps(asdict(proof), indent=2))
    cmd.say(f"Inclusion proof verifies: {'yes' if included else 'NO'}")
    cmd.say(f"Tree head signature: {'valid' if signed else 'NOT VALID'}")
    if not (included and signed):
        raise CommandError(f"The proof of entry {o['seq']} of {name} does not verify.")


def _log_archive(cmd: Command, o: Options) -> None:
    day: date = o["before"]
    before = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    chains = [c for c in _chains(o) if c != ACCESS_CHAIN]
    if not chains:
        cmd.say("No logs yet.")
    for name in chains:
        path = chain.archive(name, before=before, out_dir=o["out"], verify_signature=node.verify_own)
        if path is None:
            cmd.say(f"{name}: nothing sealed before {day} to archive.")
            continue
        report = chain.verify_archive(path, node.verify_own)
        state = "verified" if report.ok else f"DOES NOT VERIFY: entry {report.first_broken}: {report.reason}"
        cmd.say(f"{name}: {report.entries} entries and {report.heads} tree heads moved to {path} ({state})")
        if not report.ok:
            raise CommandError(f"The archive {path} does not verify: entry {report.first_broken}: {report.reason}")

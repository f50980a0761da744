from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.identity import oidc_keys
from gov21.identity.models import RelyingParty
from gov21.identity.oidc import ID_TOKEN_ALGS, SCOPES
from gov21.identity.services import client_disable, client_register
from gov21.identity.throttle import throttle_prune


class Command(BaseCommand):
    help = "Manage the OpenID Connect provider: register relying parties, list them, rotate signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        top = parser.add_subparsers(dest="area", required=True)
        client = top.add_parser("client", help="Relying parties (agency systems).")
        actions = client.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Register an agency system.")
        add.add_argument("client_id")
        add.add_argument("--name", required=True)
        add.add_argument("--agency", required=True)
        add.add_argument("--sector", required=True, help="Systems in one sector share pairwise subject identifiers.")
        add.add_argument("--purpose", required=True, help="Shown to people on the consent page.")
        add.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
        add.add_argument("--post-logout-redirect-uri", action="append", default=[], dest="logout_uris")
        add.add_argument("--scope", action="append", dest="scopes", choices=SCOPES, help="Repeat; openid is added.")
        keys = add.add_mutually_exclusive_group(required=True)
        keys.add_argument("--jwks-file", type=Path, help="The system's public keys (private_key_jwt).")
        keys.add_argument(
            "--development-secret", action="store_true", help="client_secret_basic with a generated secret."
        )
        add.add_argument("--may-introspect", action="store_true")
        add.add_argument(
            "--id-token-alg",
            choices=ID_TOKEN_ALGS,
            default="ES256",
            help="How the system wants its ID tokens signed (id_token_signed_response_alg).",
        )
        actions.add_parser("list", help="List registered systems.")
        disable = actions.add_parser("disable", help="Stop a system from signing anyone in.")
        disable.add_argument("client_id")
        top.add_parser("rotate-key", help="Make a new ID-token signing key active; old keys stay published.")
        top.add_parser("prune", help="Forget sign-in attempt counts whose window has ended.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["area"] == "rotate-key":
            for alg, kid in oidc_keys.rotate().items():
                self.stdout.write(f"Active {alg} ID-token signing key: {kid}")
            return
        if options["area"] == "prune":
            self.stdout.write(f"Forgot {throttle_prune()} ended attempt windows.")
            return
        action = options["action"]
        if action == "list":
            for row in RelyingParty.objects.order_by("client_id"):
                state = "disabled" if row.disabled_at else "active"
                self.stdout.write(
                    f"{row.client_id}\t{row.agency}\tsector={row.sector}\t{row.auth_method}\t"
                    f"{' '.join(row.allowed_scopes)}\t{state}"
                )
            return
        if action == "disable":
            try:
                client_disable(client_id=options["client_id"])
            except DomainError as error:
                raise CommandError(error.detail) from error
            self.stdout.write(f"{options['client_id']} disabled; its tokens are revoked.")
            return
        jwks = None
        if options["jwks_file"] is not None:
            try:
                jwks = json.loads(options["jwks_file"].read_text())
            except (OSError, json.JSONDecodeError) as error:
                raise CommandError(f"Cannot read the JWKS file: {error}") from error
        try:
            registered = client_register(
                client_id=options["client_id"],
                name=options["name"],
                agency=options["agency"],
                sector=options["sector"],
                purpose=options["purpose"],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["logout_uris"],
                scopes=sorted({"openid", *(options["scopes"] or [])}),
                auth_method="client_secret_basic" if options["development_secret"] else "private_key_jwt",
                jwks=jwks,
                may_introspect=options["may_introspect"],
                id_token_signed_response_alg=options["id_token_alg"],
                created_by="command line",
            )
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"Registered {registered.client_id}.")
        if registered.secret:
            self.stdout.write(f"Development client secret (shown once): {registered.secret}")

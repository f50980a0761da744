"""Writes of the federation: a partner instance trusted from its anchor."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from gov21.core.errors import DomainError
from gov21.exchange import pki
from gov21.exchange.directory import anchor_fingerprint, conf_publish, instance_code
from gov21.exchange.models import TrustedInstance


@transaction.atomic
def trust_add(*, anchor: dict[str, Any]) -> TrustedInstance:
    try:
        body = {k: str(anchor[k]) for k in ("instance", "directory", "ca", "conf_key")}
    except KeyError as exc:
        raise DomainError("invalid_anchor", f"The anchor lacks {exc.args[0]}", field="anchor") from exc
    if body["instance"] == instance_code():
        raise DomainError("invalid_anchor", "An instance does not federate with itself", field="anchor")
    pki.load_cert(body["ca"])
    trusted, _ = TrustedInstance.objects.update_or_create(
        instance=body["instance"], defaults={"anchor": {**body, "fingerprint": anchor_fingerprint(body)}}
    )
    conf_publish()
    return trusted

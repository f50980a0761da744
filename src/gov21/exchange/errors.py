"""Errors raised inside X-Road (by a gateway), reported as the X-Road REST protocol says (§4.6):
an ``X-Road-Error`` header and a JSON body ``{"type", "message", "detail"}``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

from gov21.core.errors import DomainError


class XRoadError(Exception):
    """``type`` without its origin prefix (``Client``, ``Server.ClientProxy``, ``Server.ServerProxy``)
    is completed by :meth:`at` at the gateway that raised it; a type starting with ``Client.``
    already names the consumer's fault and keeps that prefix."""

    def __init__(self, type_: str, message: str, *, status: int = 500) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status

    def at(self, origin: str) -> XRoadError:
        if self.type.startswith(("Client.", "Server.")):
            return self
        return XRoadError(f"{origin}.{self.type}", self.message, status=self.status)


CLIENT_PROXY = "Server.ClientProxy"
SERVER_PROXY = "Server.ServerProxy"


# The X-Road error types for signature failures that core.crypto reports as domain errors.
_SIGNATURE_TYPES: Final = {
    "credential_malformed": "MalformedSignature",
    "credential_tampered": "InvalidSignatureValue",
    "credential_expired": "InvalidSignatureValue",
    "credential_not_yet_valid": "InvalidSignatureValue",
    "credential_unknown_key": "CertValidation",
}


@contextlib.contextmanager
def signature_errors() -> Iterator[None]:
    """Signed documents are read and checked by ``core.crypto`` (one strict JWS parser for the
    platform); inside the exchange its refusals are X-Road errors."""
    try:
        yield
    except DomainError as error:
        raise XRoadError(_SIGNATURE_TYPES.get(error.code, "MalformedSignature"), error.detail) from error

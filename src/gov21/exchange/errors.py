"""Errors raised inside X-Road (by a gateway), reported as the X-Road REST protocol says (§4.6):
an ``X-Road-Error`` header and a JSON body ``{"type", "message", "detail"}``."""

from __future__ import annotations


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

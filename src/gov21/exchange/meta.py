"""X-Road metaservices: ``listClients`` (PR-META) at the gateway, and ``listMethods``,
``allowedMethods`` and ``getOpenAPI`` (PR-MREST) answered by the provider's gateway."""

from __future__ import annotations

import json
from typing import Any, Final
from xml.sax.saxutils import escape

import orjson

from gov21.exchange.errors import SERVER_PROXY, XRoadError
from gov21.exchange.ids import ClientId, ServiceId
from gov21.exchange.node import Conf

METASERVICES: Final = frozenset({"listMethods", "allowedMethods", "getOpenAPI"})
XROAD_NS: Final = "http://x-road.eu/xsd/xroad.xsd"
ID_NS: Final = "http://x-road.eu/xsd/identifiers"


def list_clients(confs: list[Conf], *, as_json: bool) -> tuple[bytes, str]:
    members: list[tuple[ClientId, str]] = []
    for conf in confs:
        names = conf.payload["members"]
        for ident, name in names.items():
            members.append((ClientId.parse(ident), name))
        for ident in conf.payload["subsystems"]:
            cid = ClientId.parse(ident)
            members.append((cid, names.get(str(cid.member), "")))
    members.sort(key=lambda item: str(item[0]))
    if as_json:
        body = {"member": [{"id": cid.as_json(), "name": name} for cid, name in members]}
        return orjson.dumps(body), "application/json;charset=utf-8"
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><ns2:clientList xmlns:ns1="{ID_NS}" xmlns:ns2="{XROAD_NS}">']
    for cid, name in members:
        parts.append(f'<ns2:member><ns2:id ns1:objectType="{cid.object_type}">')
        parts.append(f"<ns1:xRoadInstance>{escape(cid.instance)}</ns1:xRoadInstance>")
        parts.append(f"<ns1:memberClass>{escape(cid.member_class)}</ns1:memberClass>")
        parts.append(f"<ns1:memberCode>{escape(cid.member_code)}</ns1:memberCode>")
        if cid.subsystem:
            parts.append(f"<ns1:subsystemCode>{escape(cid.subsystem)}</ns1:subsystemCode>")
        parts.append(f"</ns2:id><ns2:name>{escape(name)}</ns2:name></ns2:member>")
    parts.append("</ns2:clientList>")
    return "".join(parts).encode("utf-8"), "text/xml;charset=utf-8"


def _services_of(conf: Conf, provider: ClientId) -> list[tuple[ServiceId, dict[str, Any]]]:
    prefix = f"{provider}/"
    found = [(ServiceId.parse(k), v) for k, v in conf.payload["services"].items() if k.startswith(prefix)]
    return [(sid, v) for sid, v in found if sid.provider == provider]


def _service_entry(sid: ServiceId, info: dict[str, Any], endpoints: list[dict[str, str]]) -> dict[str, Any]:
    entry: dict[str, Any] = sid.as_json()
    entry["service_type"] = "OPENAPI" if info.get("openapi") else "REST"
    entry["endpoint_list"] = endpoints
    return entry


def answer(
    conf: Conf, client: ClientId, provider: ClientId, code: str, query: dict[str, list[str]], openapi_of: Any
) -> tuple[int, bytes, str]:
    if code == "listMethods":
        services = [_service_entry(s, i, i.get("endpoints", [])) for s, i in _services_of(conf, provider)]
        return 200, orjson.dumps({"service": services}), "application/json;charset=utf-8"
    if code == "allowedMethods":
        services = []
        for sid, info in _services_of(conf, provider):
            allowed = conf.allowed_endpoints(client, sid)
            if allowed or conf.allowed(client, sid, "*", "/**"):
                services.append(_service_entry(sid, info, allowed))
        return 200, orjson.dumps({"service": services}), "application/json;charset=utf-8"
    wanted = (query.get("serviceCode") or [""])[0]
    found = next((s for s, _ in _services_of(conf, provider) if s.code == wanted), None)
    if found is None:
        raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"No service {wanted!r} under {provider}", status=400)
    document = openapi_of(found)
    if not document:
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"{found} has no OpenAPI description")
    return 200, json.dumps(document, indent=2).encode(), "application/json;charset=utf-8"

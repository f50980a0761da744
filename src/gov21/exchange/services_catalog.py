"""The services the platform's own apps publish through the exchange, with their OpenAPI 3
descriptions (what ``getOpenAPI`` returns and what ``listMethods`` derives endpoints from)."""

from __future__ import annotations

from typing import Any


def _person_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "uin": {"type": "string"},
            "given_names": {"type": "string"},
            "family_name": {"type": "string"},
            "date_of_birth": {"type": "string", "format": "date"},
            "sex": {"type": "string"},
            "status": {"type": "string"},
            "address": {"type": "object"},
        },
    }


def local_services(instance: str) -> dict[str, dict[str, Any]]:
    persons = {
        "openapi": "3.0.3",
        "info": {"title": "Civil registry: persons", "version": "1.0.0"},
        "paths": {
            "/{uin}": {
                "get": {
                    "summary": "A person's current record (or as it stood on as_of)",
                    "parameters": [
                        {"name": "uin", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "The person",
                            "content": {"application/json": {"schema": _person_schema()}},
                        },
                        "404": {"description": "No such person"},
                    },
                }
            },
            "/{uin}/history": {
                "get": {
                    "summary": "Every version of a person's record",
                    "parameters": [{"name": "uin", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Versions, oldest first"}},
                }
            },
        },
    }
    certificates = {
        "openapi": "3.0.3",
        "info": {"title": "Civil registry: certificate verification", "version": "1.0.0"},
        "paths": {
            "/verify": {
                "post": {
                    "summary": "Verify a certificate's signed QR credential",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"token": {"type": "string"}}}
                            }
                        }
                    },
                    "responses": {"200": {"description": "valid, tampered, revoked, superseded or unknown"}},
                }
            }
        },
    }
    return {
        f"{instance}/GOV/CRO/civil-registry/persons": {
            "url": "local:registry.persons",
            "openapi": persons,
            "title": "Persons in the civil registry",
        },
        f"{instance}/GOV/CRO/civil-registry/certificates": {
            "url": "local:registry.certificates",
            "openapi": certificates,
            "title": "Certificate verification",
        },
        **_engine_services(instance),
    }


def _openapi(title: str, paths: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A short OpenAPI description: for each path, each method with its summary."""
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "paths": {
            path: {
                method: {"summary": summary, "responses": {"200": {"description": "OK"}}}
                for method, summary in methods.items()
            }
            for path, methods in paths.items()
        },
    }


def _engine_services(instance: str) -> dict[str, dict[str, Any]]:
    """The civil registry's intake and copies, and the agency registers the service engine keeps."""
    gov = f"{instance}/GOV"
    specs = {
        "CRO/civil-registry/declarations": (
            "registry.declarations",
            "Declarations of births, deaths and address changes",
            {
                "/{kind}": {
                    "post": "Declare an event (birth, death, address_change) with its facts; the declaring "
                    "person's assertion from the identity provider in X-Gov21-Assertion (purpose: the kind) "
                    "registers their own address change at once"
                },
                "/{id}": {"get": "What became of a declaration: its state and registration number"},
            },
        ),
        "CRO/civil-registry/copies": (
            "registry.copies",
            "Certified copies of certificates",
            {
                "/": {
                    "post": "Issue a certified copy of a registration to the person named by the assertion in "
                    "X-Gov21-Assertion (purpose: certificate_copy); earlier certificates stay valid"
                },
                "/{serial}.pdf": {"get": "The printable copy"},
            },
        ),
        "LTA/licensing/licences": (
            "services.licences",
            "Driving licences",
            {"/holders/{uin}": {"get": "A person's driving licences"}, "/{number}": {"get": "One licence"}},
        ),
        "MSD/benefits/awards": (
            "services.benefits",
            "Benefit awards",
            {"/claimants/{uin}": {"get": "The benefits a person claims or receives"}},
        ),
        "BRA/business-register/businesses": (
            "services.businesses",
            "Register of business names",
            {
                "/": {"get": "Search registered business names (?q=)"},
                "/{number}": {"get": "One registered business"},
                "/owners/{uin}": {"get": "The businesses a person owns"},
            },
        ),
        "EXCHANGE/data-embassy/store": (
            "continuity.embassy",
            "Data embassy: partner governments' encrypted backups, kept as opaque objects",
            {
                "/objects/{key}": {
                    "put": "Store one object (a sealed chunk or a signed manifest)",
                    "get": "Read one object back",
                    "delete": "Remove one object",
                },
                "/list/{prefix}": {"get": "The objects under a prefix (manifests, chunks/ab)"},
                "/inventory": {"get": "Every chunk held, and the space used of the quota"},
            },
        ),
        "PORTAL/services/events": (
            "services.events",
            "Service engine: event receiver",
            {"/": {"post": "Receive one registry event (delivered at least once)"}},
        ),
        "PORTAL/services/documents": (
            "services.documents",
            "Documents issued by public services",
            {
                "/{serial}": {"get": "One issued document and its status"},
                "/holders/{uin}": {"get": "A person's documents"},
            },
        ),
    }
    for member, subsystem, title in (
        ("LTA", "licensing", "Licensing and Transport Authority"),
        ("MSD", "benefits", "Ministry of Social Development"),
        ("BRA", "business-register", "Business Registration Authority"),
    ):
        specs[f"{member}/{subsystem}/documents"] = (
            "services.documents",
            f"Documents issued by the {title}",
            {
                "/{serial}": {"get": "One document this agency issued, and its status"},
                "/holders/{uin}": {"get": "The documents this agency issued to a person"},
            },
        )
    return {
        f"{gov}/{tail}": {"url": f"local:{handler}", "openapi": _openapi(title, paths), "title": title}
        for tail, (handler, title, paths) in specs.items()
    }

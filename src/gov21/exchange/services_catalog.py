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
    }

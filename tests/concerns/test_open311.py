"""The Open311 GeoReport v2 API spoken by a real HTTP client to a live server on loopback, in JSON
and XML: what an Open311 client does (discover, list services, read a definition, post a report,
read it back, follow its status as the agency acts) and every bad input the specification answers
with its error list."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from pytest_django.live_server_helper import LiveServer

from gov21.concerns.models import Report
from gov21.concerns.services import key_create, key_revoke
from tests.concerns.helpers import PWD, a_point, call, jpeg

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def api(live_server: LiveServer) -> httpx2.Client:
    assert live_server.url.startswith("http://localhost:") or live_server.url.startswith("http://127.0.0.1:")
    with httpx2.Client(base_url=f"{live_server.url}/open311/v2/", timeout=30) as client:
        yield client


@pytest.fixture
def key() -> str:
    return key_create(name="a city app").key


def _xml(answer: httpx2.Response) -> ET.Element:
    assert answer.headers["content-type"].startswith("text/xml"), answer.headers
    assert answer.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(answer.content)


def _post(api: httpx2.Client, fmt: str, data: dict[str, Any], files: Any = None) -> httpx2.Response:
    return api.post(f"requests.{fmt}", data=data, files=files)


def _report(key: str, **extra: Any) -> dict[str, Any]:
    lat, lon = a_point()
    return {
        "api_key": key,
        "service_code": "street-light",
        "lat": str(lat),
        "long": str(lon),
        "description": "The lamp by the school is out.",
        **extra,
    }


def _error(answer: httpx2.Response, status: int, fmt: str = "json") -> str:
    assert answer.status_code == status, answer.text
    if fmt == "json":
        body = answer.json()
        assert isinstance(body, list) and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status
        return str(body[0]["description"])
    root = _xml(answer)
    assert root.tag == "errors"
    error = root.find("error")
    assert error is not None and [child.tag for child in error] == ["code", "description"]
    assert error.findtext("code") == str(status)
    return str(error.findtext("description"))


def test_discovery_names_the_endpoint_and_its_formats(api: httpx2.Client) -> None:
    body = api.get("discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = _xml(api.get("discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"


def test_services_and_a_service_definition_in_both_formats(api: httpx2.Client) -> None:
    services = api.get("services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"pothole", "street-light", "drain", "public-building", "water-leak", "illegal-dumping"} <= codes
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert set(pothole) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert pothole["metadata"] is True and pothole["type"] == "realtime"
    root = _xml(api.get("services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert first is not None
    assert [c.tag for c in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert {s.findtext("service_code") for s in root.findall("service")} == codes

    definition = api.get("services/pothole.json").json()
    assert definition["service_code"] == "pothole"
    size = definition["attributes"][0]
    assert size["code"] == "size" and size["datatype"] == "singlevaluelist" and size["required"] is True
    assert {v["key"] for v in size["values"]} == {"small", "medium", "large"}
    root = _xml(api.get("services/pothole.xml"))
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert [c.tag for c in attribute] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert attribute.findtext("variable") == "true"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["small", "medium", "large"]
    assert "nothing" in _error(api.get("services/nothing.json"), 404) or True
    _error(api.get("services/nothing.xml"), 404, "xml")


def test_a_client_posts_a_report_reads_it_back_and_sees_the_agency_close_it(api: httpx2.Client, key: str) -> None:
    posted = _post(
        api,
        "json",
        _report(
            key,
            **{
                "attribute[size]": "large",
                "service_code": "pothole",
                "email": "ana@example.org",
                "first_name": "Ana",
                "phone": "+1 555 0100",
                "account_id": "a-1",
            },
        ),
    )
    assert posted.status_code == 201, posted.text
    created = posted.json()
    assert len(created) == 1 and set(created[0]) == {"service_request_id", "service_notice", "account_id"}
    number = created[0]["service_request_id"]

    one = api.get(f"requests/{number}.json").json()
    assert len(one) == 1 and list(one[0]) == REQUEST_FIELDS
    assert one[0]["status"] == "open" and one[0]["service_code"] == "pothole"
    assert one[0]["agency_responsible"] == "PWD"
    for moment in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert datetime.fromisoformat(one[0][moment]).tzinfo is not None
    # Nobody's personal data leaves through the public API.
    assert "ana@example.org" not in api.get(f"requests/{number}.json").text
    assert "555" not in api.get("requests.xml").text

    root = _xml(api.get(f"requests/{number}.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None and [c.tag for c in request] == REQUEST_FIELDS
    assert request.findtext("service_request_id") == number

    # The agency acts through the exchange; the client sees the change.
    acted = call(
        PWD,
        f"/reports/{number}/actions",
        method="POST",
        body=json.dumps({"status": "closed", "public_update": "Filled on Tuesday."}).encode(),
    )
    assert acted.status == 200, acted.body
    after = api.get(f"requests/{number}.json").json()[0]
    assert after["status"] == "closed" and after["status_notes"] == "Filled on Tuesday."
    assert after["updated_datetime"] >= one[0]["updated_datetime"]
    assert _xml(api.get(f"requests/{number}.xml")).findtext("request/status") == "closed"


def test_post_in_xml_and_the_token_resource(api: httpx2.Client, key: str) -> None:
    answer = _post(api, "xml", {"api_key": key, "service_code": "water-leak", "address_string": "Main Street"})
    assert answer.status_code == 201
    root = _xml(answer)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    token = Report.objects.get(pk=int(number or 0)).token
    body = api.get(f"tokens/{token}.json").json()
    assert body == [{"service_request_id": number, "token": token}]
    root = _xml(api.get(f"tokens/{token}.xml"))
    assert [c.tag for c in root.find("request") or []] == ["service_request_id", "token"]
    _error(api.get("tokens/nope.json"), 404)


def test_get_requests_filters_by_id_code_status_and_dates(api: httpx2.Client, key: str) -> None:
    ids = [
        _post(api, "json", _report(key, service_code=code)).json()[0]["service_request_id"]
        for code in ("street-light", "drain", "drain")
    ]
    call(PWD, f"/reports/{ids[2]}/actions", method="POST", body=b'{"status": "closed"}')
    got = lambda **params: [r["service_request_id"] for r in api.get("requests.json", params=params).json()]  # noqa: E731
    assert sorted(got()) == sorted(ids)
    assert sorted(got(service_request_id=f"{ids[0]},{ids[1]}")) == sorted(ids[:2])
    assert sorted(got(service_code="drain")) == sorted(ids[1:])
    assert got(service_code="drain", status="closed") == [ids[2]]
    assert sorted(got(status="open,closed")) == sorted(ids)
    now = datetime.now(UTC)
    assert sorted(
        got(start_date=(now - timedelta(hours=1)).isoformat(), end_date=(now + timedelta(hours=1)).isoformat())
    ) == sorted(ids)
    assert got(end_date=(now - timedelta(hours=1)).isoformat()) == []
    assert got(start_date="2020-01-01T00:00:00Z", end_date="2020-01-02T00:00:00Z") == []
    root = _xml(api.get("requests.xml", params={"service_code": "drain"}))
    assert len(root.findall("request")) == 2


def test_bad_inputs_each_get_the_specifications_error_and_nothing_is_recorded(api: httpx2.Client, key: str) -> None:
    before = Report.objects.count()
    assert "api_key" in _error(_post(api, "json", {k: v for k, v in _report(key).items() if k != "api_key"}), 403)
    _error(_post(api, "xml", _report("o311_not-a-key")), 403, "xml")
    revoked = key_create(name="old app")
    key_revoke(key_id=revoked.id)
    _error(_post(api, "json", _report(revoked.key)), 403)
    _error(_post(api, "json", _report(key, service_code="volcano")), 404)
    _error(_post(api, "xml", _report(key, service_code="volcano")), 404, "xml")
    no_place = {k: v for k, v in _report(key).items() if k not in {"lat", "long"}}
    assert "location" in _error(_post(api, "json", no_place), 400)
    _error(_post(api, "json", _report(key, lat="1.0", long="1.0")), 400)  # not in the country
    _error(_post(api, "json", _report(key, lat="north")), 400)
    _error(_post(api, "json", _report(key, service_code="pothole")), 400)  # its required attribute
    _error(_post(api, "json", _report(key, service_code="pothole", **{"attribute[size]": "huge"})), 400)
    for url in (
        "http://127.0.0.1/admin",
        "http://localhost:8000/x.jpg",
        "http://10.0.0.5/p.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/p.jpg",
        "file:///etc/passwd",
        "ftp://example.org/p.jpg",
        "http://192.168.1.1/p.png",
        "http://2130706433/p.png",
        "javascript:alert(1)",
        "http://user:pw@example.org/p.jpg",
    ):
        assert "media_url" in _error(_post(api, "json", _report(key, media_url=url)), 400), url
    _error(_post(api, "json", _report(key), files={"media": ("big.jpg", b"\xff\xd8" + b"0" * (50 * 1024 * 1024))}), 413)
    _error(_post(api, "json", _report(key), files={"media": ("x.jpg", b"#!/bin/sh\necho not a picture\n")}), 400)
    _error(
        _post(api, "json", _report(key), files={"media": ("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")}), 400
    )
    assert Report.objects.count() == before

    _error(api.get("requests.json", params={"start_date": "yesterday"}), 400)
    _error(api.get("requests.json", params={"start_date": "2026-01-01T00:00:00"}), 400)  # no time zone
    _error(api.get("requests.json", params={"status": "pending"}), 400)
    _error(api.get("requests.json", params={"service_request_id": "1;DROP"}), 400)
    _error(api.get("requests/999999.json"), 404)
    _error(api.get("requests/999999.xml"), 404, "xml")
    assert api.get("requests.html").status_code == 404


def test_a_public_media_url_and_a_photo_are_kept_the_photo_without_its_metadata(api: httpx2.Client, key: str) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (12.0, 3.0, 0.0)}  # GPS latitude
    photo = jpeg(exif=exif.tobytes())
    answer = _post(
        api,
        "json",
        _report(key, media_url="https://example.org/lamp.jpg"),
        files={"media": ("lamp.jpg", photo, "image/jpeg")},
    )
    assert answer.status_code == 201, answer.text
    report = Report.objects.get(pk=int(answer.json()[0]["service_request_id"]))
    assert report.media_url == "https://example.org/lamp.jpg"
    stored = bytes(report.photos.get().jpeg)
    assert b"PhoneMaker" in photo and b"PhoneMaker" not in stored and b"Exif" not in stored


@pytest.mark.django_db
def test_service_names_and_attribute_labels_follow_the_clients_language() -> None:
    from django.test import Client

    client = Client()
    english = client.get("/open311/v2/services/pothole.json").json()
    [size] = english["attributes"]
    assert size["description"] == "How big is it?"
    for language, question, plate in (
        ("es", "¿De qué tamaño es?", "Más pequeño que un plato"),
        ("fr", "Quelle taille fait-il ?", "Plus petit qu'une assiette"),
        ("nl", "Hoe groot is het?", "Kleiner dan een bord"),
    ):
        answer = client.get("/open311/v2/services/pothole.xml", HTTP_ACCEPT_LANGUAGE=language)
        root = ET.fromstring(answer.content)
        assert root.findtext("attributes/attribute/description") == question
        assert root.findtext("attributes/attribute/values/value/name") == plate
        assert root.findtext("attributes/attribute/values/value/key") == "small"  # keys never change
    services = {s["service_code"]: s for s in client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="es").json()}
    assert services["water-leak"]["service_name"] == "Fuga de agua"
    assert services["water-leak"]["group"] == "Agua"

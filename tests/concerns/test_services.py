"""The reporting desk's writes and reads: keys kept as digests, photos re-encoded without metadata,
the agencies' queues on the exchange (each its own), reassignment, merging duplicates within a
distance, the service-level timer, the contact read logged for the person, the public map without
personal data, and the key command."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import Image

from gov21.concerns import selectors, services
from gov21.concerns.models import ClientKey, Note, Report
from gov21.concerns.photos import MAX_BYTES, photo_clean
from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_client, data_uses_for
from tests.concerns.helpers import PWD, WSA, call, jpeg, report

pytestmark = pytest.mark.django_db


def test_a_key_is_kept_only_as_its_digest_and_a_revoked_key_is_refused() -> None:
    issued = services.key_create(name="city app")
    row = ClientKey.objects.get(pk=issued.id)
    assert issued.key not in row.digest and row.digest == services.key_digest(issued.key)
    assert services.key_check(issued.key).pk == issued.id
    services.key_revoke(key_id=issued.id)
    with pytest.raises(DomainError) as refused:
        services.key_check(issued.key)
    assert refused.value.status == 403
    with pytest.raises(DomainError):
        services.key_revoke(key_id=issued.id)


def test_the_key_command_prints_a_key_once_and_revokes_it() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("open311", "key", "create", "--name", "Works app", "--agency", "PWD", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("o311_") and "shown once" in err.getvalue()
    row = services.key_check(key)
    assert row.agency == "PWD" and row.name == "Works app"
    call_command("open311", "key", "revoke", str(row.pk), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("open311", "key", "revoke", str(row.pk), stdout=io.StringIO())


def test_photos_are_reencoded_upright_small_and_without_metadata() -> None:
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone"
    exif[0x0112] = 6  # turned: stored on its side
    clean = photo_clean(jpeg(size=(3000, 1000), exif=exif.tobytes()))
    assert b"SecretPhone" not in clean.jpeg and b"Exif" not in clean.jpeg
    with Image.open(io.BytesIO(clean.jpeg)) as image:
        assert image.format == "JPEG" and (image.width, image.height) == (clean.width, clean.height)
        assert image.height > image.width and max(image.size) <= 2048
    with pytest.raises(DomainError) as big:
        photo_clean(b"0" * (MAX_BYTES + 1))
    assert big.value.status == 413
    with pytest.raises(DomainError):
        photo_clean(b"GIF89a not really")
    # A small file that claims an enormous picture is refused before it is decoded.
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    with pytest.raises(DomainError):
        photo_clean(bomb.getvalue())


def test_each_agency_reads_its_own_queue_and_acts_only_on_its_reports() -> None:
    light, leak = report("street-light"), report("water-leak")
    works = call(PWD, "/queue").json()["reports"]
    water = call(WSA, "/queue").json()["reports"]
    assert [r["service_request_id"] for r in works] == [str(light.pk)]
    assert [r["service_request_id"] for r in water] == [str(leak.pk)]
    refused = call(WSA, f"/reports/{light.pk}/actions", method="POST", body=b'{"status": "closed"}')
    assert refused.status == 404
    assert Report.objects.get(pk=light.pk).status == "open"
    # An agency that receives no reports has no right to the service.
    assert call(agency_client("LRA", "land-register"), "/queue").error.endswith("AccessDenied")
    nothing = call(PWD, f"/reports/{light.pk}/actions", method="POST", body=b"{}")
    assert nothing.status == 400


def test_internal_notes_stay_internal_and_public_updates_are_shown() -> None:
    light = report("street-light")
    body = {"internal_note": "Crew B, ladder truck", "public_update": "A crew is on its way."}
    assert call(PWD, f"/reports/{light.pk}/actions", method="POST", body=json.dumps(body).encode()).status == 200
    assert [n.text for n in selectors.public_updates(light.pk)] == ["A crew is on its way."]
    assert Note.objects.filter(report=light, kind="internal").count() == 1
    page = Client().get(f"/reports/{light.pk}/").content.decode()
    assert "A crew is on its way." in page and "ladder truck" not in page


def test_reassignment_moves_the_report_to_the_other_agencys_queue_with_its_timer() -> None:
    wrong = report("drain")
    moved = call(PWD, f"/reports/{wrong.pk}/reassign", method="POST", body=b'{"service_code": "water-leak"}')
    assert moved.status == 200 and moved.json()["agency_responsible"] == "WSA"
    row = Report.objects.get(pk=wrong.pk)
    assert row.expected_at == row.requested_at + timedelta(hours=24)
    assert [r["service_request_id"] for r in call(WSA, "/queue").json()["reports"]] == [str(wrong.pk)]
    assert call(PWD, f"/reports/{wrong.pk}/reassign", method="POST", body=b'{"service_code": "drain"}').status == 404
    unknown = call(WSA, f"/reports/{wrong.pk}/reassign", method="POST", body=b'{"service_code": "volcano"}')
    assert unknown.status == 404


def test_duplicates_merge_only_within_the_distance_and_follow_the_first() -> None:
    first = report("street-light")
    near = report("street-light", offset_m=50)
    far = report("street-light", offset_m=2000)
    other_kind = report("drain", offset_m=10)
    assert (
        call(PWD, f"/reports/{far.pk}/merge", method="POST", body=json.dumps({"into": first.pk}).encode()).status == 409
    )
    assert (
        call(PWD, f"/reports/{other_kind.pk}/merge", method="POST", body=json.dumps({"into": first.pk}).encode()).status
        == 409
    )
    merged = call(PWD, f"/reports/{near.pk}/merge", method="POST", body=json.dumps({"into": first.pk}).encode())
    assert merged.status == 200
    assert [r["service_request_id"] for r in call(PWD, "/queue").json()["reports"]].count(str(near.pk)) == 0
    call(PWD, f"/reports/{first.pk}/actions", method="POST", body=b'{"status": "closed"}')
    assert Report.objects.get(pk=near.pk).status == "closed"
    again = call(PWD, f"/reports/{near.pk}/merge", method="POST", body=json.dumps({"into": far.pk}).encode())
    assert again.status == 409


def test_an_overdue_report_is_marked_in_the_queue() -> None:
    late = report("water-leak")
    Report.objects.filter(pk=late.pk).update(expected_at=late.requested_at - timedelta(hours=1))
    assert call(WSA, "/queue").json()["reports"][0]["overdue"] is True


def test_the_reporters_contact_is_given_to_the_agency_and_the_use_recorded_for_the_person() -> None:
    light = report("street-light", email="ana@example.org")
    Report.objects.filter(pk=light.pk).update(person_uin="1234567890")
    answer = call(PWD, f"/reports/{light.pk}/contact", issue="Ask where exactly the lamp is")
    assert answer.status == 200 and answer.json()["email"] == "ana@example.org"
    uses = data_uses_for(subject="1234567890")
    assert any(u["purpose"] == "Ask where exactly the lamp is" for u in uses)
    assert call(WSA, f"/reports/{light.pk}/contact").status == 404


def test_the_public_map_collection_names_nobody() -> None:
    light = report("street-light", email="ana@example.org", first_name="Ana", description="my neighbour Bob")
    body = Client().get("/geo/collections/reported-problems/items", HTTP_ACCEPT="application/geo+json").json()
    feature = next(f for f in body["features"] if f["id"] == str(light.pk))
    assert set(feature["properties"]) == {"service_code", "service_name", "status", "parish", "requested"}
    assert "ana@" not in json.dumps(body) and "Bob" not in json.dumps(body)
    filtered = (
        Client()
        .get("/geo/collections/reported-problems/items?service_code=drain", HTTP_ACCEPT="application/geo+json")
        .json()
    )
    assert filtered["features"] == []

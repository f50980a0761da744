"""Lodging every kind of land transaction from the office's pages: a first registration from a
GeoJSON file or WKT, a subdivision whose faults (overlap, gap, areas) are named on the form and drawn
on the map, a merger, a mortgage's discharge from the parcel's page, and source documents kept by
their SHA-256 (and kept across a refused attempt)."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from shapely.geometry import shape

from gov21.land.models import Right, Transaction
from gov21.land.records import MortgageFacts, PartyRef
from tests.identity.flows import portal_sign_in, staff
from tests.land.helpers import complete, first_register, lodge, owners, person, rect, ref, square

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _clerk() -> Client:
    client = Client()
    portal_sign_in(client, staff("land.lodger", "clerk"), next_url="/office/land/")
    return client


def _wkt(geometry: dict[str, object]) -> str:
    return str(shape(geometry).wkt)


def _collection(*geometries: dict[str, object], uses: tuple[str, ...] = ()) -> str:
    features = [
        {"type": "Feature", "geometry": g, "properties": {"land_use": uses[i]} if i < len(uses) else {}}
        for i, g in enumerate(geometries)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


def test_a_first_registration_from_a_geojson_file_with_its_survey_plan() -> None:
    owner = person()
    clerk = _clerk()
    page = clerk.get("/office/land/lodge/first-registration/")
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    boundary = SimpleUploadedFile("lot.geojson", json.dumps(square(30, 0)).encode(), "application/geo+json")
    plan = SimpleUploadedFile("plan.pdf", PDF, "application/octet-stream")
    response = clerk.post(
        "/office/land/lodge/first-registration/",
        {
            "parish": "XA-01",
            "land_use": "agricultural",
            "geometry": "",
            "geometry_file": boundary,
            "owners": f"{owner.uin} 1/1",
            "buildings": _wkt(rect(30.2, 0.2, 30.4, 0.4)),
            "document_kind_1": "survey_plan",
            "document_1": plan,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    tx = Transaction.objects.get(kind="first_registration")
    assert [(s.kind, s.sha256, s.media_type) for s in tx.sources.all()] == [
        ("survey_plan", hashlib.sha256(PDF).hexdigest(), "application/pdf")
    ]
    assert tx.facts["land_use"] == "agricultural" and len(tx.facts["buildings"]) == 1
    shown = clerk.get(response["Location"])
    assert b"plan.pdf" in shown.content and hashlib.sha256(PDF).hexdigest().encode() in shown.content


def test_a_first_registration_in_wkt_that_overlaps_a_neighbour_is_drawn_and_refused() -> None:
    neighbour = first_register(square(40, 0), owners((person(), "1/1")))
    clerk = _clerk()
    posted = {"parish": "XA-01", "land_use": "residential", "owners": f"{person().uin} 1/1"}
    overlapping = clerk.post(
        "/office/land/lodge/first-registration/", {**posted, "geometry": _wkt(rect(40.5, 0, 41.5, 1))}
    )
    assert overlapping.status_code == 422
    text = overlapping.content.decode()
    assert f"The parcel overlaps parcel {neighbour} by" in text
    assert "<svg" in text and f"Overlap with parcel {neighbour}" in text  # the overlap drawn and listed
    assert not Transaction.objects.filter(kind="first_registration", lodged_by="land.lodger").exists()
    # The preview draws without lodging; a bowtie and nonsense are refused with what is wrong.
    preview = clerk.post(
        "/office/land/lodge/first-registration/",
        {**posted, "geometry": _wkt(square(42, 0)), "preview": "yes"},
    )
    assert preview.status_code == 200 and b"The new parcel" in preview.content and b"<svg" in preview.content
    assert not Transaction.objects.filter(lodged_by="land.lodger").exists()
    bowtie = "POLYGON ((-63.1 14.0, -63.099 14.001, -63.099 14.0, -63.1 14.001, -63.1 14.0))"
    crossed = clerk.post("/office/land/lodge/first-registration/", {**posted, "geometry": bowtie})
    assert crossed.status_code == 422 and b"not valid" in crossed.content
    nonsense = clerk.post("/office/land/lodge/first-registration/", {**posted, "geometry": "{not json"})
    assert nonsense.status_code == 422 and b"This is not valid GeoJSON" in nonsense.content
    missing = clerk.post("/office/land/lodge/first-registration/", {**posted, "geometry": ""})
    assert missing.status_code == 422 and b"Give the parcel&#x27;s boundary" in missing.content
    two = clerk.post(
        "/office/land/lodge/first-registration/", {**posted, "geometry": _collection(square(43, 0), square(45, 0))}
    )
    assert two.status_code == 422 and b"this gives 2" in two.content


def test_a_subdivision_names_and_draws_its_faults_then_is_lodged() -> None:
    owner = person()
    number = first_register(rect(50, 0, 52, 1), owners((owner, "1/1")))
    clerk = _clerk()
    form = clerk.get(f"/office/land/lodge/subdivision/?parcel={number}")
    assert form.status_code == 200 and f'value="{number}"'.encode() in form.content
    posted = {"parcel": number, "applicant": owner.uin, "land_use": "residential"}
    gap = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "parts": _collection(rect(50, 0, 51, 1), rect(51, 0, 51.8, 1))},
    )
    assert gap.status_code == 422
    assert b"uncovered; they must cover all of it" in gap.content and b"Not covered by any part" in gap.content
    overlap = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "parts": "\n".join([_wkt(rect(50, 0, 51.2, 1)), _wkt(rect(51, 0, 52, 1))])},
    )
    assert overlap.status_code == 422
    assert b"Parts 1 and 2 overlap by" in overlap.content and b"Overlap of 1 and 2" in overlap.content
    outside = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "parts": _collection(rect(50, 0, 51, 1), rect(51, 0, 52.5, 1))},
    )
    assert outside.status_code == 422 and b"outside the parcel being divided" in outside.content
    one = clerk.post("/office/land/lodge/subdivision/", {**posted, "parts": _wkt(rect(50, 0, 52, 1))})
    assert one.status_code == 422 and b"at least two parcels; this gives 1" in one.content
    unknown_use = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "parts": _collection(rect(50, 0, 51, 1), rect(51, 0, 52, 1), uses=("castle",))},
    )
    assert unknown_use.status_code == 422 and b"castle is not a land use" in unknown_use.content
    assert not Transaction.objects.filter(kind="subdivision").exists()
    good = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "parts": _collection(rect(50, 0, 51, 1), rect(51, 0, 52, 1), uses=("commercial",))},
    )
    assert good.status_code == 302, good.content.decode()[:3000]
    tx = Transaction.objects.get(kind="subdivision")
    assert [p["land_use"] for p in tx.facts["parts"]] == ["commercial", "residential"]
    registered = complete(tx)
    assert len(registered.made) == 2


def test_a_representative_needs_the_power_of_attorney_and_documents_are_kept_across_attempts() -> None:
    owner, agent = person(), person()
    number = first_register(rect(60, 0, 62, 1), owners((owner, "1/1")))
    clerk = _clerk()
    posted = {
        "parcel": number,
        "applicant": agent.uin,
        "represents": owner.uin,
        "land_use": "residential",
        "parts": _collection(rect(60, 0, 61, 1), rect(61, 0, 62, 1)),
    }
    deed = SimpleUploadedFile("deed.pdf", PDF, "application/pdf")
    no_power = clerk.post("/office/land/lodge/subdivision/", {**posted, "document_kind_1": "deed", "document_1": deed})
    assert no_power.status_code == 422 and b"power of attorney among the documents" in no_power.content
    digest = hashlib.sha256(PDF).hexdigest()
    assert f'name="kept" value="{digest}"'.encode() in no_power.content  # the deed is not asked for again
    not_a_document = SimpleUploadedFile("power.exe", b"MZ\x90\x00", "application/pdf")
    refused = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "kept": [digest], "document_kind_1": "power_of_attorney", "document_1": not_a_document},
    )
    assert refused.status_code == 422 and b"A source document is a PDF, PNG, JPEG or TIFF file." in refused.content
    no_kind = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "kept": [digest], "document_1": SimpleUploadedFile("power.png", b"\x89PNG\r\n\x1a\n....")},
    )
    assert no_kind.status_code == 422 and b"Choose what kind of document this is." in no_kind.content
    power = SimpleUploadedFile("power.png", b"\x89PNG\r\n\x1a\nsigned", "image/png")
    lodged = clerk.post(
        "/office/land/lodge/subdivision/",
        {**posted, "kept": [digest], "document_kind_1": "power_of_attorney", "document_1": power},
    )
    assert lodged.status_code == 302, lodged.content.decode()[:3000]
    tx = Transaction.objects.get(kind="subdivision")
    assert sorted(s.kind for s in tx.sources.all()) == ["deed", "power_of_attorney"]
    forged = clerk.post("/office/land/lodge/subdivision/", {**posted, "kept": ["../../etc/passwd"]})
    assert forged.status_code == 422 and b"upload it again" in forged.content


def test_a_merger_and_a_discharge_from_the_parcels_page() -> None:
    owner = person()
    west = first_register(square(70, 0), owners((owner, "1/1")))
    east = first_register(square(71, 0), owners((owner, "1/1")))
    clerk = _clerk()
    apart = first_register(square(74, 0), owners((owner, "1/1")))
    refused = clerk.post(
        "/office/land/lodge/merger/",
        {"parcels": f"{west}, {apart}", "applicant": owner.uin, "land_use": "residential"},
    )
    assert refused.status_code == 422 and b"together they form one piece of land" in refused.content
    too_few = clerk.post("/office/land/lodge/merger/", {"parcels": west, "applicant": owner.uin, "land_use": "state"})
    assert too_few.status_code == 422 and b"Name at least two parcels" in too_few.content
    merged = clerk.post(
        "/office/land/lodge/merger/",
        {"parcels": f"{west}\n{east}", "applicant": owner.uin, "land_use": "commercial"},
    )
    assert merged.status_code == 302, merged.content.decode()[:3000]
    bank = PartyRef(kind="agency", identifier="MSD")
    complete(lodge(MortgageFacts(parcel=apart, applicant=ref(owner), lender=bank, amount_cents=1_000_000)))
    mortgage = Right.objects.get(parcel_number=apart, kind="mortgage")
    page = clerk.get(f"/office/land/parcels/{apart}/")
    link = f"/office/land/lodge/discharge/?parcel={apart}&amp;mortgage={mortgage.pk}"
    assert link.encode() in page.content
    form = clerk.get(link.replace("&amp;", "&"))
    assert f'value="{mortgage.pk}"'.encode() in form.content
    posted = {"parcel": apart, "mortgage": str(mortgage.pk)}
    not_lender = clerk.post("/office/land/lodge/discharge/", {**posted, "applicant": owner.uin})
    assert not_lender.status_code == 422 and b"Only the lender" in not_lender.content
    badly_typed = clerk.post("/office/land/lodge/discharge/", {**posted, "applicant": "bank:XYZ"})
    assert badly_typed.status_code == 422 and b"Write a UIN, or business: or agency:" in badly_typed.content
    discharged = clerk.post("/office/land/lodge/discharge/", {**posted, "applicant": "agency:MSD"})
    assert discharged.status_code == 302, discharged.content.decode()[:3000]
    assert Transaction.objects.filter(kind="discharge").count() == 1


def test_a_reader_may_not_lodge() -> None:
    reader = Client()
    portal_sign_in(reader, staff("land.reader9", "reader"), next_url="/office/land/")
    for kind in ("first-registration", "subdivision", "merger", "discharge"):
        assert reader.get(f"/office/land/lodge/{kind}/").status_code == 403
    home = reader.get("/office/land/")
    assert b"Lodge a subdivision" not in home.content


def test_a_lease_and_an_easement_lodged_from_the_pages_encumber_the_title() -> None:
    owner, tenant = person(), person()
    number = first_register(square(80, 0), owners((owner, "1/1")))
    clerk = _clerk()
    page = clerk.get(f"/office/land/parcels/{number}/")
    assert f"/office/land/lodge/lease/?parcel={number}".encode() in page.content
    posted = {"parcel": number, "applicant": owner.uin, "lessee": tenant.uin, "description": "XCD 900 a month"}
    past = clerk.post("/office/land/lodge/lease/", {**posted, "ends_on": "2001-01-31"})
    assert past.status_code == 422 and b"The end must be a day after today." in past.content
    no_day = clerk.post("/office/land/lodge/lease/", {**posted, "ends_on": "someday"})
    assert no_day.status_code == 422 and b"Enter a real date" in no_day.content
    lease = clerk.post("/office/land/lodge/lease/", {**posted, "ends_on": "2036-03-31"})
    assert lease.status_code == 302, lease.content.decode()[:3000]
    complete(Transaction.objects.get(kind="lease"))
    stranger = clerk.post(
        "/office/land/lodge/easement/",
        {"parcel": number, "applicant": tenant.uin, "beneficiary": "agency:MSD", "description": "A water main"},
    )
    assert stranger.status_code == 422 and b"is not a registered owner" in stranger.content
    no_right = clerk.post(
        "/office/land/lodge/easement/", {"parcel": number, "applicant": owner.uin, "beneficiary": "agency:MSD"}
    )
    assert no_right.status_code == 422
    easement = clerk.post(
        "/office/land/lodge/easement/",
        {"parcel": number, "applicant": owner.uin, "beneficiary": "agency:MSD", "description": "A water main"},
    )
    assert easement.status_code == 302, easement.content.decode()[:3000]
    complete(Transaction.objects.get(kind="easement"))
    rights = Right.objects.filter(parcel_number=number, valid_to__isnull=True).order_by("id")
    assert [(r.kind, str(r.ends_on), r.description) for r in rights][1:] == [
        ("lease", "2036-03-31", "XCD 900 a month"),
        ("easement", "None", "A water main"),
    ]
    shown = clerk.get(f"/office/land/parcels/{number}/").content.decode()
    assert "until 31 Mar 2036" in shown and "A water main" in shown

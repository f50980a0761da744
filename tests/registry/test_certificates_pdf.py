from __future__ import annotations

import io
import re
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from gov21.core import pdf as document_pdf
from gov21.core.crypto import KeyStore
from gov21.core.pdf import _dark_runs, render_qr_png, render_qr_svg, to_latin1
from gov21.registry.certificates import render_certificate_pdf

zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp decodes the QR codes back")

FACTS = [
    ("Given names", "Zoë Anna"),
    ("Surname", "Łukasiewicz-Hernández"),
    ("Date of birth", "20 November 2025"),
    ("Place of birth", "Port Azure General Hospital"),
    ("Mother", "Дарья Смирнова"),
    ("Father", "Αλέξανδρος Παπαδόπουλος"),
]


@pytest.fixture(scope="module")
def credential(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = KeyStore(tmp_path_factory.mktemp("keys"), purpose="registry")
    token = store.sign(
        {
            "iss": "XA-CR",
            "iat": 1764316800,
            "k": "b",
            "n": "B-2025-000123",
            "gn": "Zoë Anna",
            "sn": "Łukasiewicz-Hernández",
            "dob": "2025-11-20",
            "pob": "Port Azure General Hospital",
            "m": "Дарья Смирнова",
        }
    )
    assert 300 <= len(token) <= 500
    return token


def _render(payload: str, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "kind": "birth",
        "number": "B-2025-000123",
        "facts": FACTS,
        "qr_payload": payload,
        "issued_on": date(2025, 11, 28),
        "issuer": "Civil Registrar of Port Azure",
        "verify_url": "https://registry.gov.xa/verify",
    } | overrides
    return render_certificate_pdf(**arguments)


# --- a just-enough PDF reader for what fpdf2 writes ---------------------------------------------


def _objects(pdf: bytes) -> dict[int, bytes]:
    """Each object's body. A stream is cut by its /Length, never by searching for "endstream" or
    "endobj": compressed bytes (a signature in a QR code is random) can contain those words."""
    objects: dict[int, bytes] = {}
    header = re.compile(rb"(\d+) 0 obj\s*")
    pos = 0
    while (match := header.search(pdf, pos)) is not None:
        start = match.end()
        end_obj = pdf.find(b"endobj", start)
        stream_at = pdf.find(b"stream", start)
        if stream_at != -1 and (end_obj == -1 or stream_at < end_obj):
            length = re.search(rb"/Length (\d+)", pdf[start:stream_at])
            assert length is not None, "a stream without /Length"
            data_start = stream_at + len(b"stream") + (2 if pdf[stream_at + 6 : stream_at + 8] == b"\r\n" else 1)
            data_end = data_start + int(length[1])
            end_obj = pdf.find(b"endobj", data_end)
            objects[int(match[1])] = pdf[start:data_end] + b"\nendstream"
        else:
            objects[int(match[1])] = pdf[start:end_obj].rstrip()
        pos = end_obj + len(b"endobj")
    return objects


def _stream(body: bytes) -> bytes | None:
    at = body.find(b"stream")
    if at == -1 or not body.endswith(b"\nendstream"):
        return None
    data = body[at + 6 : -len(b"\nendstream")].removeprefix(b"\r\n").removeprefix(b"\n")
    return zlib.decompress(data) if b"/FlateDecode" in body[:at] else data


def _unescape(literal: bytes) -> bytes:
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def replace(match: re.Match[bytes]) -> bytes:
        escaped = match[1]
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return simple.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", replace, literal, flags=re.S)


def _pdf_text(pdf: bytes) -> str:
    """Text of every page, one line per text object, decoded through the fonts' ToUnicode maps."""
    objects = _objects(pdf)
    to_unicode: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        match = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if match:
            cmap = _stream(objects[int(match[1])]) or b""
            pairs: dict[int, str] = {}
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
                for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    pairs[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
            to_unicode[number] = pairs
    resources = {name.decode(): int(ref) for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", pdf)}

    lines: list[str] = []
    for body in objects.values():
        content = _stream(body)
        if content is None or b"BT" not in content:
            continue
        font_stack: list[str | None] = [None]
        token = re.compile(rb"\bq\b|\bQ\b|/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|\bET\b", re.S)
        current: list[str] = []
        for match in token.finditer(content):
            word = match[0]
            if word == b"q":
                font_stack.append(font_stack[-1])
            elif word == b"Q":
                font_stack.pop()
            elif match[1]:
                font_stack[-1] = match[1].decode()
            elif word == b"ET":
                if current:
                    lines.append("".join(current))
                current = []
            else:
                raw = _unescape(match[2])
                glyphs = to_unicode.get(resources.get(font_stack[-1] or "", -1))
                if glyphs is None:
                    current.append(raw.decode("latin-1"))
                else:
                    codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                    current.append("".join(glyphs.get(code, "\x00") for code in codes))
    return "\n".join(lines)


def _qr_modules_from_pdf(pdf: bytes) -> list[tuple[float, float, float, float]]:
    """Rectangles (mm, from the top left) the certificate paints; only the QR code uses them."""
    rectangles: list[tuple[float, float, float, float]] = []
    for body in _objects(pdf).values():
        content = _stream(body) or b""
        for match in re.finditer(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re", content):
            x, y, width, height = (float(v) for v in match.groups())
            rectangles.append((x, y, width, height))
    return rectangles


def _rasterise(rectangles: list[tuple[float, float, float, float]], *, px_per_mm: float = 8) -> Image.Image:
    """What a 200 dpi scan of the printed code would look like."""
    left = min(r[0] for r in rectangles) - 10
    top = min(r[1] for r in rectangles) - 10
    right = max(r[0] + r[2] for r in rectangles) + 10
    bottom = max(r[1] + r[3] for r in rectangles) + 10
    image = Image.new("L", (round((right - left) * px_per_mm), round((bottom - top) * px_per_mm)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width, height in rectangles:
        x0, y0 = (x - left) * px_per_mm, (y - top) * px_per_mm
        draw.rectangle([round(x0), round(y0), round(x0 + width * px_per_mm), round(y0 + height * px_per_mm)], fill=0)
    return image


def _decode(image: Image.Image) -> str:
    result = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert result is not None, "no QR code found"
    return str(result.text)


# --- QR codes -----------------------------------------------------------------------------------


def test_qr_png_decodes_back_to_exactly_the_credential(credential: str) -> None:
    png = render_qr_png(credential)
    assert png.startswith(b"\x89PNG")
    assert _decode(Image.open(io.BytesIO(png))) == credential


def test_qr_png_decodes_at_smallest_scale_too(credential: str) -> None:
    image = Image.open(io.BytesIO(render_qr_png(credential, scale=1)))
    assert _decode(image.resize((image.width * 3, image.height * 3), Image.Resampling.NEAREST)) == credential


def test_qr_png_rejects_a_useless_scale(credential: str) -> None:
    with pytest.raises(ValueError):
        render_qr_png(credential, scale=0)


def test_qr_svg_is_inline_and_sized_by_css(credential: str) -> None:
    svg = render_qr_svg(credential)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "viewBox" in svg
    assert not re.search(r"<svg[^>]*\swidth=", svg)
    assert "<title>Verification code</title>" in svg


def test_oversized_payload_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        render_qr_png("x" * 5000)


def test_dark_runs_reproduce_the_matrix() -> None:
    matrix = [[1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]]
    assert _dark_runs(matrix) == [(0, 0, 2), (0, 3, 1), (2, 0, 4), (3, 1, 2)]


# --- the certificate ----------------------------------------------------------------------------


def test_certificate_is_a_pdf_with_title_number_facts_and_verification_text(credential: str) -> None:
    pdf = _render(credential)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page\n") == 1
    text = _pdf_text(pdf)
    assert "Certificate of Birth" in text
    assert "Republic of XA — Civil Registry" in text
    assert "B-2025-000123" in text
    for label, value in FACTS:
        assert label in text
        assert value in text  # Polish, Cyrillic and Greek printed as themselves
    assert "registry.gov.xa/verify" in text
    assert "type the serial number" in text
    assert "Issued on 28 November 2025" in text
    assert b"/Title (Certificate of Birth B-2025-000123)" in pdf  # document metadata, for search and archives


@pytest.mark.parametrize(
    ("kind", "title"),
    [("birth", "Certificate of Birth"), ("Marriage", "Certificate of Marriage"), ("death", "Certificate of Death")],
)
def test_title_follows_kind(credential: str, kind: str, title: str) -> None:
    assert title in _pdf_text(_render(credential, kind=kind))


def test_unknown_kind_is_refused(credential: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        _render(credential, kind="divorce")


def test_printed_qr_code_is_large_and_decodes_to_the_credential(credential: str) -> None:
    rectangles = _qr_modules_from_pdf(_render(credential))
    width = max(r[0] + r[2] for r in rectangles) - min(r[0] for r in rectangles)
    height = max(r[1] + r[3] for r in rectangles) - min(r[1] for r in rectangles)

    assert width >= 45 and height >= 45
    assert width <= 80
    assert _decode(_rasterise(rectangles)) == credential


def test_same_inputs_give_identical_bytes(credential: str) -> None:
    assert _render(credential) == _render(credential)


def test_characters_the_font_lacks_are_marked_not_dropped(credential: str) -> None:
    text = _pdf_text(_render(credential, facts=[("Name", "Lee 李小龍 Jun")]))
    assert "Lee \ufffd\ufffd\ufffd Jun" in text


def test_without_a_unicode_font_text_falls_back_to_latin1(
    credential: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(document_pdf, "_find_fonts", lambda: None)
    pdf = _render(credential)
    text = _pdf_text(pdf)
    assert "Lukasiewicz-Hernández" in text
    assert "Zoë Anna" in text
    assert "Republic of XA - Civil Registry" in text
    assert "B-2025-000123" in text
    assert _decode(_rasterise(_qr_modules_from_pdf(pdf))) == credential


def test_long_fact_lists_move_the_code_to_a_second_page(credential: str) -> None:
    facts = [(f"Fact {i}", f"Value number {i} " * 4) for i in range(30)]
    pdf = _render(credential, facts=facts)
    assert pdf.count(b"/Type /Page\n") >= 2
    assert _decode(_rasterise(_qr_modules_from_pdf(pdf))) == credential


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Zoë Müller", "Zoë Müller"),
        ("Łukasz Wałęsa", "Lukasz Walesa"),
        ("Đorđe Ðoković", "Dorde Ðokovic"),
        ("Nguyễn Thị Minh Khai", "Nguyen Thi Minh Khai"),
        ("Œuvre — “quoted”", 'OEuvre - "quoted"'),
        ("Дарья", "?????"),
        ("ǅ", "Dz"),
    ],
)
def test_latin1_transliteration(given: str, expected: str) -> None:
    assert to_latin1(given) == expected
    to_latin1(given).encode("latin-1")

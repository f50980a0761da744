"""Printable signed documents (a civil-status certificate, a licence) and the QR codes that let
anyone verify them: one A4 layout that every app issuing documents shares.

The QR code carries the signed credential itself (see ``gov21.core.crypto``), so a document
can be checked with a phone against the published keys even where there is no network.
"""

from __future__ import annotations

import functools
import io
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Final

import segno
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.drawing import GraphicsContext, PaintedPath
from fpdf.enums import Align, PathPaintRule, TableBordersLayout, VAlign, XPos, YPos
from fpdf.fonts import FontFace

logger = logging.getLogger(__name__)

# Error correction M survives the smudges and folds of a document kept in a drawer while keeping
# a ~400-character credential at version 15-16; segno may raise the level further when that is
# free (same version), which only helps.
QR_ERROR: Final = "m"
QR_BORDER: Final = 4  # quiet zone required by ISO/IEC 18004
# A printed module of half a millimetre is comfortably above what phone cameras resolve at
# reading distance; the symbol never goes below 50 mm so short payloads stay easy to aim at.
_QR_MIN_SYMBOL_MM: Final = 50.0
_QR_MIN_MODULE_MM: Final = 0.5
_QR_MAX_SYMBOL_MM: Final = 80.0

_MARGIN: Final = 20.0
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Searched in order. Debian's fonts-dejavu-core installs the first system path; a font shipped
# with the package would win so output does not depend on the host.
FONT_DIRS: Final = (
    Path(__file__).parent / "data" / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
_FONT_FILES: Final = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Letters that Unicode does not decompose into a Latin-1 base letter plus marks, and punctuation
# common in names and addresses; used only when no Unicode font is available.
_LATIN1_FALLBACKS: Final = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE", "œ": "oe",
    "Ŋ": "NG", "ŋ": "ng", "ſ": "s", "ĸ": "k", "Ŧ": "T", "ŧ": "t", "ƒ": "f", "ẞ": "SS", "Ə": "E",
    "ə": "e", "ʻ": "'", "ʼ": "'", "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"',
    "‐": "-", "‑": "-", "–": "-", "—": "-", "…": "...", "•": "·", "€": "EUR",
}  # fmt: skip


# --- QR codes -----------------------------------------------------------------------------------


def _make_qr(payload: str) -> segno.QRCode:
    try:
        return segno.make_qr(payload, error=QR_ERROR)
    except segno.DataOverflowError as exc:
        raise ValueError(f"payload of {len(payload)} characters does not fit in a QR code") from exc


def render_qr_svg(payload: str) -> str:
    """An ``<svg>`` element to inline in HTML, sized by the page's CSS.

    It carries no XML namespace declaration, which inline SVG does not need; for ``<img>`` use
    :func:`render_qr_png`.
    """
    # Explicit light modules: a transparent background turns unreadable on dark-mode pages.
    return str(
        _make_qr(payload).svg_inline(
            border=QR_BORDER,
            dark="#000",
            light="#fff",
            omitsize=True,
            title=_("Verification code"),
            svgclass="qr",
            lineclass=None,
        )
    )


def render_qr_png(payload: str, *, scale: int = 4) -> bytes:
    if scale < 1:
        raise ValueError("scale must be at least 1")
    buffer = io.BytesIO()
    _make_qr(payload).save(buffer, kind="png", scale=scale, border=QR_BORDER, dark="#000", light="#fff")
    return buffer.getvalue()


def _dark_runs(rows: Iterable[Iterable[int]]) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, column, length).

    Drawing runs rather than single modules keeps the PDF small, and painting them all in one
    path avoids the hairline seams viewers show between separately filled squares.
    """
    runs: list[tuple[int, int, int]] = []
    for r, row in enumerate(rows):
        start: int | None = None
        c = 0
        for c, dark in enumerate(row):
            if dark and start is None:
                start = c
            elif not dark and start is not None:
                runs.append((r, start, c - start))
                start = None
        if start is not None:
            runs.append((r, start, c + 1 - start))
    return runs


# --- text ---------------------------------------------------------------------------------------


@functools.cache
def _find_fonts() -> dict[str, Path] | None:
    for directory in FONT_DIRS:
        paths = {style: directory / name for style, name in _FONT_FILES.items()}
        if all(p.is_file() for p in paths.values()):
            return paths
    logger.warning("no Unicode TTF font found in %s; certificates fall back to Latin-1", FONT_DIRS)
    return None


def to_latin1(text: str) -> str:
    """Closest Latin-1 spelling: strip accents Latin-1 lacks, map a few letters, else ``?``."""
    out: list[str] = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
        elif ch in _LATIN1_FALLBACKS:
            out.append(_LATIN1_FALLBACKS[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


class _Text:
    """Makes arbitrary strings printable with whatever font this host offers."""

    def __init__(self, pdf: FPDF) -> None:
        fonts = _find_fonts()
        self.covered: frozenset[int] | None = None
        if fonts is None:
            self.family = "helvetica"
            return
        self.family = "body"
        for style, path in fonts.items():
            pdf.add_font(self.family, style, path)
        regular, bold = (pdf.fonts[f"{self.family}{style}"] for style in ("", "B"))
        self.covered = frozenset(getattr(regular, "cmap", {})) & frozenset(getattr(bold, "cmap", {}))

    def __call__(self, text: str) -> str:
        # NFC first: fpdf2 does no shaping, so a base letter followed by a combining accent would
        # print as two glyphs side by side where one precomposed glyph exists.
        text = unicodedata.normalize("NFC", text)
        text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
        if self.covered is None:
            return to_latin1(text)
        missing = {ch for ch in text if ch != "\n" and ord(ch) not in self.covered}
        if not missing:
            return text
        # A visible replacement mark, never a silent gap: a name printed with a letter quietly
        # missing would read as a different name.
        logger.warning("font lacks glyphs for %s", ", ".join(f"U+{ord(ch):04X}" for ch in sorted(missing)))
        mark = "\ufffd" if 0xFFFD in self.covered else "?"
        return "".join(mark if ch in missing else ch for ch in text)


def _long_date(day: date) -> str:
    """The month spelled out in the active language, unambiguous unlike 03/04/2025; in English
    day first, as the islands write it (Django's English format puts the month first)."""
    if (translation.get_language() or "en").startswith("en"):
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return formats.date_format(day, "DATE_FORMAT")


# --- the document -------------------------------------------------------------------------------


class _DocumentPDF(FPDF):
    footer_text = ""
    footer_family = "helvetica"

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.footer_family, size=8)
        self.set_text_color(110)
        page = _("page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(0, 5, f"{self.footer_text} · {page}", align=Align.C)


def render_document_pdf(
    *,
    header: str,
    title: str,
    number_label: str,
    number: str,
    facts: Sequence[tuple[str, str]],
    qr_payload: str,
    issued_on: date,
    issuer: str,
    verify_url: str,
) -> bytes:
    """An A4 document: the ``header`` line (the state and the issuing office), title, the document's
    number under its own label (a registration number, a licence number), facts table and a
    verification QR code. The caller gives the header, title and labels in the reader's language;
    the fixed sentences are printed in the active language. The same inputs in the same language
    always give the same bytes, so a re-issued copy can be compared with the original.
    """
    qr = _make_qr(qr_payload)

    pdf = _DocumentPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    text = _Text(pdf)
    family = text.family
    pdf.footer_family = family
    pdf.footer_text = text(f"{title} {number}")
    # Fixed creation date so identical inputs yield identical files.
    pdf.set_creation_date(datetime.combine(issued_on, time(0), tzinfo=UTC))
    pdf.set_title(f"{title} {number}")
    pdf.set_subject(header)
    pdf.set_author(issuer)
    pdf.set_creator("gov21")
    pdf.set_lang(translation.get_language() or "en")
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(family, size=10)
    pdf.set_text_color(90)
    pdf.cell(width, 6, text(header), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(family, "B", 24)
    pdf.set_text_color(0)
    pdf.cell(width, 12, text(title), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, size=12)
    pdf.cell(width, 8, text(f"{number_label} {number}"), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.4)
    pdf.line(_MARGIN, pdf.get_y(), _MARGIN + width, pdf.get_y())
    pdf.ln(6)

    pdf.set_font(family, size=11)
    label_style = FontFace(family=family, emphasis="", size_pt=9, color=90)
    value_style = FontFace(family=family, emphasis="BOLD", size_pt=11, color=0)
    with pdf.table(
        col_widths=(0.34 * width, 0.66 * width),
        width=width,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        text_align=(Align.L, Align.L),
        v_align=VAlign.T,
        line_height=6,
        padding=(2, 2, 2, 0),
    ) as table:
        for label, value in facts:
            row = table.row()
            row.cell(text(label), style=label_style)
            row.cell(text(value), style=value_style)
    pdf.ln(6)

    pdf.set_font(family, size=11)
    pdf.multi_cell(
        width,
        6,
        text(_("Issued on %(date)s by %(issuer)s.") % {"date": _long_date(issued_on), "issuer": issuer}),
        # Ragged right: longer in some languages, it wraps, and justified lines open gaps between words.
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(6)

    modules = qr.symbol_size(border=0)[0]
    module_mm = min(max(_QR_MIN_SYMBOL_MM / modules, _QR_MIN_MODULE_MM), _QR_MAX_SYMBOL_MM / modules)
    symbol_mm = modules * module_mm
    quiet_mm = QR_BORDER * module_mm
    if pdf.will_page_break(symbol_mm + 2 * quiet_mm):
        pdf.add_page()
    top = pdf.get_y()
    # The symbol lines up with the table; its left quiet zone lies in the blank page margin.
    symbol_x, symbol_y = _MARGIN, top + quiet_mm
    path = PaintedPath()
    path.style.paint_rule = PathPaintRule.FILL_NONZERO
    path.style.fill_color = "#000000"
    path.style.stroke_color = None
    for r, c, length in _dark_runs(qr.matrix_iter(scale=1, border=0)):
        path.rectangle(symbol_x + c * module_mm, symbol_y + r * module_mm, length * module_mm, module_mm)
    # Built here and never touched again, so fpdf2's defensive deep copy (most of the render
    # time for a thousand-rectangle path) can be skipped.
    group = GraphicsContext()
    group.add_item(path, clone=False)
    pdf.draw_path(group, copy=False)

    column_x = _MARGIN + symbol_mm + quiet_mm + 4
    pdf.set_left_margin(column_x)
    pdf.set_xy(column_x, symbol_y)
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 7, text(_("Check this document")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(family, size=10)
    # One sentence to translate; the address inside it is written as a link.
    sentence = _(
        "Scan the code with a phone's camera to open the check, or go to %(address)s and type the serial "
        "number and the holder's date of birth."
    )
    before, _address, after = sentence.partition("%(address)s")
    pdf.write(5, text(before))
    pdf.set_text_color(0, 0, 160)
    pdf.write(5, text(verify_url), link=verify_url)
    pdf.set_text_color(0)
    pdf.write(5, text(after))
    pdf.set_left_margin(_MARGIN)

    return bytes(pdf.output())


# --- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTable:
    """A table of figures. ``widths``: the columns' relative widths (equal when empty); ``numeric``:
    the indices of the columns whose figures are aligned right; every other cell is aligned left
    (never justified, which spreads a short name across its cell)."""

    caption: str
    headings: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] = ()
    numeric: frozenset[int] = frozenset()


# A section whose heading would land lower than this on a page starts on the next one, so that a
# heading is never left alone at the foot of a page with its text overleaf (in mm from the top).
_SECTION_START_LIMIT = 297 - 60


@dataclass(frozen=True)
class ReportSection:
    """A heading, then paragraphs, an SVG chart (drawn as vectors) and a table, each optional."""

    heading: str
    paragraphs: Sequence[str] = ()
    svg: str = ""
    table: ReportTable | None = None
    # Further tables after the first (a wide table split so that its columns stay readable).
    more_tables: Sequence[ReportTable] = ()


def render_report_pdf(
    *, title: str, subtitle: str, author: str, made_on: date, sections: Sequence[ReportSection]
) -> bytes:
    """An A4 report of figures: the title, then each section's text, chart and table. The same inputs
    in the same language give the same bytes."""
    pdf = _DocumentPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    text = _Text(pdf)
    family = text.family
    pdf.footer_family = family
    pdf.footer_text = text(title)
    pdf.set_creation_date(datetime.combine(made_on, time(0), tzinfo=UTC))
    pdf.set_title(text(title))
    pdf.set_subject(text(subtitle))
    pdf.set_author(text(author))
    pdf.set_creator("gov21")
    pdf.set_lang(translation.get_language() or "en")
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(width, 9, text(title), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, size=11)
    pdf.set_text_color(90)
    pdf.multi_cell(width, 6, text(subtitle), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    for section in sections:
        if pdf.get_y() > _SECTION_START_LIMIT:
            pdf.add_page()
        pdf.ln(5)
        pdf.set_font(family, "B", 13)
        pdf.start_section(text(section.heading))
        pdf.multi_cell(width, 7, text(section.heading), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(family, size=10)
        for paragraph in section.paragraphs:
            pdf.multi_cell(width, 5, text(paragraph), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        if section.svg:
            pdf.ln(2)
            pdf.image(io.BytesIO(section.svg.encode()), w=width)
        tables = [t for t in (section.table, *section.more_tables) if t is not None]
        for report_table in tables:
            pdf.ln(2)
            pdf.set_font(family, "B", 9)
            pdf.multi_cell(width, 5, text(report_table.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(family, size=9)
            columns = len(report_table.headings)
            aligns = tuple("RIGHT" if i in report_table.numeric else "LEFT" for i in range(columns))
            with pdf.table(
                width=width,
                col_widths=tuple(report_table.widths) or None,
                text_align=aligns,
                borders_layout=TableBordersLayout.HORIZONTAL_LINES,
                line_height=5,
                padding=(1, 2, 1, 0),
                headings_style=FontFace(family=family, emphasis="BOLD", size_pt=9),
            ) as table:
                heading = table.row()
                for cell in report_table.headings:
                    heading.cell(text(cell))
                for values in report_table.rows:
                    row = table.row()
                    for cell in values:
                        row.cell(text(cell))
    return bytes(pdf.output())

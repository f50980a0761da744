"""Every sentence a person reads is marked for translation: makemessages (tests/portal/
test_translations.py) only sees what is marked, so a sentence typed straight into a template or
passed as a plain string to a message, a form or a response would stay English in every language
and no other check would notice.

Two scanners: one reads each template's text (outside ``{% translate %}`` and
``{% blocktranslate %}``) and the attributes a person reads or hears (``alt``, ``title``,
``aria-label``, ``placeholder``, a button's ``value``); the other reads the Python modules for
string literals given to what shows text to a person (``messages.*``, ``ValidationError``, a form
field's ``label``/``help_text``/``error_messages``, an ``HttpResponse`` body) without a
``gettext`` around them. Each is first shown to find a planted sentence."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

SRC = Path(__file__).resolve().parents[2] / "src" / "gov21"

# Words as a person reads them: two words of letters (so "gov21", "UIN", "×" or a lone code do not
# count), or one word of four letters or more ("Search", "Continue").
_WORDS = re.compile(r"[^\W\d_]{2,}(?:['’-][^\W\d_]+)*[\s,.:;!?()'’-]+[^\W\d_]{2,}|[^\W\d_]{4,}")
# What a placeholder for a variable or a tag looks like in the reassembled text: no letter.
# Spaces around it keep a tag whole when a tag adds one of its attributes (``<p{% if e %} class="x"{% endif %}>``).
_HOLE = " \x00 "
# Attributes whose value a person reads or hears; every other attribute is for the machine.
_SPOKEN = frozenset({"alt", "title", "aria-label", "aria-description", "placeholder", "summary"})
_BUTTON_TYPES = frozenset({"submit", "button", "reset"})
# Tags whose contents no person reads as text.
_HIDDEN = frozenset({"script", "style", "code", "pre"})
_SKIP_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}

# Texts that are not words of a language: each with why.
ALLOWED_TEXT: dict[str, str] = {
    "gov21": "the platform's name",
    "GOV.UK": "the design system's name",
    "SQLite": "a product's name",
    "PostgreSQL": "a product's name",
    "GeoJSON": "a format's name (RFC 7946), the same in every language",
    "OpenAPI 3.0": "a standard's name and version",
    "DCAT-AP (Turtle)": "a vocabulary's and a format's names, the same in every language",
    "JSON-LD": "a format's name (W3C), the same in every language",
    "XLSX": "a file format's name",
    "JSON": "a format's name (RFC 8259)",
    "Parquet": "a file format's name",
}
# An address, a file name or an identifier (``/auth/activate``, ``schema.json``, ``private_key_jwt``).
_MACHINE = re.compile(r"\S*(?:/|_|\w\.\w)\S*")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _words(text: str) -> bool:
    text = " ".join(text.split())
    for allowed in ALLOWED_TEXT:
        text = text.replace(allowed, " ")
    text = _MACHINE.sub(" ", text)
    return _WORDS.search(text.replace(_HOLE.strip(), " ")) is not None


def _shown(text: str) -> str:
    return " ".join(text.replace(_HOLE.strip(), "…").split())


def _holes(source: str) -> str:
    """The template with every tag, variable and comment replaced by a placeholder of the same
    number of lines, and the contents of ``blocktranslate`` and ``comment`` blocks too, so what
    is left is the text and markup the template prints as typed."""
    out: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        raw = token.contents
        if token.token_type == TokenType.BLOCK:
            name = raw.split()[0] if raw.split() else ""
            if closing is None and name in _SKIP_BLOCKS:
                closing = _SKIP_BLOCKS[name]
            elif name == closing:
                closing = None
        if token.token_type == TokenType.TEXT and closing is None:
            out.append(raw)
        else:
            out.append(_HOLE + "\n" * raw.count("\n"))
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.hidden: list[str] = []
        self.findings: list[Finding] = []

    def _found(self, text: str) -> None:
        if _words(text):
            self.findings.append(Finding(self.path, self.getpos()[0], _shown(text)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            visible = name in _SPOKEN or (
                name == "value" and tag == "input" and (values.get("type") or "").lower() in _BUTTON_TYPES
            )
            if visible and value:
                self._found(value)
        if tag in _HIDDEN:
            self.hidden.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN:
            self.hidden.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden:
            while self.hidden and self.hidden.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._found(data)


def template_findings(path: Path, source: str | None = None) -> list[Finding]:
    """The sentences a template prints without marking them for translation."""
    reader = _Reader(str(path))
    reader.feed(_holes(path.read_text(encoding="utf-8") if source is None else source))
    reader.close()
    return reader.findings


# --- Python --------------------------------------------------------------------------------------

_GETTEXT = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "gettext_noop",
        "pgettext",
        "pgettext_lazy",
        "ngettext",
        "ngettext_lazy",
        "npgettext",
        "npgettext_lazy",
    }
)
_MESSAGES = frozenset({"debug", "info", "success", "warning", "error", "add_message"})
_FIELD_KEYWORDS = frozenset({"label", "help_text", "empty_label"})
# Calls whose first argument is shown to the person: a form's error, a page's whole body.
_BODY_CALLS = re.compile(r"ValidationError|HttpResponse\w*")
# The platform's own functions that put words before a person: the argument (by position, or by
# keyword) they show.
_PLATFORM_SINKS: dict[str, tuple[int | None, frozenset[str]]] = {
    "refusal_page": (1, frozenset({"detail"})),  # the refusal a person reads
    "office_entrance_register": (None, frozenset({"label"})),  # a link in the header
    "access_action_declare": (1, frozenset({"label"})),  # "who used my data"
    "DocumentKind": (0, frozenset({"title", "authority", "number_label"})),  # documents and their pages
}
# Route declarations: ``seen_as`` is what a person reads of a use of their data.
_ROUTE_KEYWORDS = frozenset({"seen_as"})
# The domain's errors: their detail is what a page says went wrong (and an API's problem+json).
_ERRORS = frozenset({"DomainError", "NotFound", "Conflict", "Forbidden", "Unauthenticated"})
# Modules whose errors a citizen's pages show as they are. Elsewhere the detail of an error is read
# by an agency's developer in problem+json, or by an officer, and is not checked here yet.
CITIZEN_MODULES: tuple[str, ...] = (
    "portal/",
    "onestop/citizen.py",
    "onestop/selectors.py",
    "onestop/registers.py",
    "identity/services/consent.py",
    "identity/passkeys.py",
)
# Python modules whose strings no citizen or official reads in the UI, each with why.
ALLOWED_MODULES: dict[str, str] = {
    "management/commands": "operators' command output, in the language of the operator's terminal",
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _unmarked(node: ast.expr | None) -> Iterator[tuple[int, str]]:
    """The literal text in ``node`` not passed through gettext: a string, an f-string, a
    ``"..." % x`` or ``"...".format(x)``, or the values of a dict (``error_messages``)."""
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _words(node.value):
        yield node.lineno, node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else _HOLE for v in node.values)
        if _words(str(text)):
            yield node.lineno, str(text)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        yield from _unmarked(node.left)
        if isinstance(node.op, ast.Add):
            yield from _unmarked(node.right)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        yield from _unmarked(node.func.value)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _unmarked(value)
    elif isinstance(node, ast.IfExp):
        yield from _unmarked(node.body)
        yield from _unmarked(node.orelse)


def _sinks(call: ast.Call, *, errors: bool) -> Iterator[ast.expr]:
    """The arguments of ``call`` that a person will read; ``errors``: a domain error's detail too."""
    name = _name(call.func)
    owner = _name(call.func.value) if isinstance(call.func, ast.Attribute) else ""
    if name in _GETTEXT:
        return
    if owner == "messages" and name in _MESSAGES:
        # messages.error(request, text) and messages.add_message(request, level, text)
        index = 2 if name == "add_message" else 1
        if len(call.args) > index:
            yield call.args[index]
        yield from (k.value for k in call.keywords if k.arg == "message")
    if _BODY_CALLS.fullmatch(name) and call.args:
        yield call.args[0]
    if errors and name in _ERRORS:
        yield from call.args[1:2]
        yield from (k.value for k in call.keywords if k.arg == "detail")
    if name in _PLATFORM_SINKS:
        index, keywords = _PLATFORM_SINKS[name]
        if index is not None and len(call.args) > index:
            yield call.args[index]
        yield from (k.value for k in call.keywords if k.arg in keywords)
    yield from (k.value for k in call.keywords if k.arg in _ROUTE_KEYWORDS)
    # A model's help text is for developers: gov21 has no admin site that would show it.
    if owner != "models" and (name.endswith("Field") or owner == "forms"):
        yield from (k.value for k in call.keywords if k.arg in _FIELD_KEYWORDS or k.arg == "error_messages")
    if name.endswith(("Input", "Select", "Textarea")):
        for k in call.keywords:
            if k.arg == "attrs" and isinstance(k.value, ast.Dict):
                for key, value in zip(k.value.keys, k.value.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in _SPOKEN:
                        yield value


def _choice_labels(node: ast.ClassDef) -> Iterator[ast.expr]:
    """The labels of a ``TextChoices``/``IntegerChoices`` (``CODE = "code", "Label"``): what forms
    and pages show for a code."""
    if not any(_name(base).endswith("Choices") for base in node.bases):
        return
    for statement in node.body:
        value = statement.value if isinstance(statement, ast.Assign) else None
        if isinstance(value, ast.Tuple) and len(value.elts) == 2:
            yield value.elts[1]


def python_findings(path: Path, source: str | None = None, *, errors: bool = False) -> list[Finding]:
    """The literal sentences a module gives to a message, a form or a response unmarked; with
    ``errors``, to a domain error too."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    findings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for label in _choice_labels(node):
                for line, text in _unmarked(label):
                    findings.append(Finding(str(path), line, _shown(text)))
        if isinstance(node, ast.Call):
            for sink in _sinks(node, errors=errors):
                for line, text in _unmarked(sink):
                    findings.append(Finding(str(path), line, _shown(text)))
    return sorted(findings)


def _templates() -> list[Path]:
    return sorted(p for p in SRC.glob("*/templates/**/*") if p.is_file() and p.suffix in {".html", ".txt"})


def _modules() -> list[Path]:
    def exempt(path: Path) -> bool:
        relative = path.relative_to(SRC).as_posix()
        return "/migrations/" in relative or any(part in relative for part in ALLOWED_MODULES)

    return sorted(p for p in SRC.rglob("*.py") if not exempt(p))


def _citizens(path: Path) -> bool:
    return path.relative_to(SRC).as_posix().startswith(CITIZEN_MODULES)


# --- the checks prove they can fail ----------------------------------------------------------------


def test_a_template_sentence_typed_as_is_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Your documents" %}</h1>\n'
        '<p class="lede intro" id="top-part">'
        "{% blocktranslate %}You have {{ n }} documents{% endblocktranslate %}</p>\n"
        '<a href="{% url "portal:my" %}" title="Back to your account">{{ name }}</a>\n'
        "<script>const message = 'not for people';</script>{# a comment to say what #}\n"
        '<input type="submit" value="Send it"><input type="hidden" name="next step" value="go away">\n'
        "<p>{{ count }} documents were found</p>\n",
        encoding="utf-8",
    )
    found = [(f.line, f.text) for f in template_findings(page)]
    assert found == [(3, "Back to your account"), (5, "Send it"), (6, "… documents were found")]


def test_a_template_with_every_sentence_marked_passes(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<img src="/x.svg" alt="{% translate "Coat of arms" %}">\n'
        "{% comment %}Explains why this block exists{% endcomment %}<p>{{ a }} · {{ b }} – 3 × 4</p>\n"
        '<a class="button secondary" href="/my/">{% translate "Your account" %}</a> gov21\n',
        encoding="utf-8",
    )
    assert template_findings(page) == []


def test_a_module_passing_plain_sentences_to_people_is_found(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(
        "from django import forms\n"
        "from django.contrib import messages\n"
        "from django.http import HttpResponse\n"
        "from django.core.exceptions import ValidationError\n"
        "from django.utils.translation import gettext as _\n"
        "def view(request):\n"
        '    messages.success(request, "Your changes were saved")\n'
        '    messages.info(request, _("This one is marked"))\n'
        "    raise ValidationError(f'Enter a date before {x}')\n"
        "class F(forms.Form):\n"
        '    a = forms.CharField(label="Full name", help_text=_("As on your passport"))\n'
        "    b = forms.CharField(label=_('Ok'), error_messages={'required': 'Enter your name'})\n"
        "def other(request):\n"
        '    return HttpResponse("Nothing to see here" % {})\n'
        "def fine(request):\n"
        '    return HttpResponse(b"ok", content_type="text/plain")\n'
        "def selector(uin):\n"
        '    raise NotFound("not_found", f"No document {uin} on your account.")\n',
        encoding="utf-8",
    )
    found = [(f.line, f.text) for f in python_findings(module)]
    assert found == [
        (7, "Your changes were saved"),
        (9, "Enter a date before …"),
        (11, "Full name"),
        (12, "Enter your name"),
        (14, "Nothing to see here"),
    ]
    with_errors = [(f.line, f.text) for f in python_findings(module, errors=True)]
    assert with_errors[-1] == (18, "No document … on your account.")


# --- the code base ---------------------------------------------------------------------------------


def test_templates_find_some_text_to_check() -> None:
    """The scanner reads the real templates (a wrong glob would pass with nothing read)."""
    assert len(_templates()) > 50
    assert len(_modules()) > 100


@pytest.mark.parametrize("kind", ["templates", "python"])
def test_every_sentence_a_person_reads_is_marked_for_translation(kind: str) -> None:
    if kind == "templates":
        findings = [f for path in _templates() for f in template_findings(path)]
    else:
        findings = [f for path in _modules() for f in python_findings(path, errors=_citizens(path))]
    shown = "\n".join(str(f).replace(str(SRC) + "/", "") for f in sorted(findings))
    assert not findings, f"{len(findings)} sentences are not marked for translation:\n{shown}"

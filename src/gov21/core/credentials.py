"""Verifiers of the signed codes printed on documents, by prefix: the civil registry's certificates
are checked by the registry, other agencies' documents by the app that issued them. The public
/verify page asks this table, so it does not need to know every issuer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

# The query parameter of the verification page's address that carries a document's code; a QR
# code holds that whole address, so a phone's camera opens the page already filled in.
CODE_PARAMETER: Final = "code"

VERIFIERS: dict[str, Callable[[str], Any]] = {}


def verifier_register(prefix: str, verify: Callable[[str], Any]) -> None:
    VERIFIERS[prefix.upper()] = verify


def verification_url(code: str) -> str:
    """The address of the public verification page with ``code`` in it: what a document's QR code
    holds. The code is the prefix and a compact JWS, whose characters never need escaping in a
    query, so an offline verifier reads the signed credential straight out of the address."""
    return f"{settings.BASE_URL}/verify?{CODE_PARAMETER}={code}"


def code_from_text(text: str) -> str:
    """The document code in what a person pasted or a camera read: the code itself, or the
    verification address that carries it (from any host: a copy read offline is checked the same)."""
    text = "".join(text.split())
    if "?" in text and "://" in text.split("?", 1)[0]:
        values = parse_qs(urlsplit(text).query).get(CODE_PARAMETER)
        return values[0] if values else ""
    return text


def verifier_for(payload: str) -> Callable[[str], Any] | None:
    head = payload.strip()[:16].upper()
    for prefix, verify in VERIFIERS.items():
        if head.startswith(prefix):
            return verify
    return None


# Other issuers' public keys, published beside the registry's at /.well-known/jwks.json so one
# download lets an offline verifier check every document.
JWKS_SOURCES: list[Callable[[], dict[str, Any]]] = []


def jwks_source_register(source: Callable[[], dict[str, Any]]) -> None:
    if source not in JWKS_SOURCES:
        JWKS_SOURCES.append(source)


def other_keys() -> list[dict[str, Any]]:
    return [key for source in JWKS_SOURCES for key in source().get("keys", [])]


# Look-ups of a printed serial number with the holder's date of birth, for people who cannot scan
# the code: each issuer answers for its own serials, and None when it has no such pair.
LOOKUPS: list[Callable[[str, date], Any | None]] = []


def lookup_register(lookup: Callable[[str, date], Any | None]) -> None:
    if lookup not in LOOKUPS:
        LOOKUPS.append(lookup)


def document_lookup(serial: str, birth_date: date) -> Any | None:
    """The verdict of the issuer that holds a document ``serial`` whose holder was born on
    ``birth_date``; None when none does, whichever half of the pair is wrong."""
    for lookup in LOOKUPS:
        found = lookup(serial, birth_date)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """What a kind of document is called and who issues it, in English as signed (the strings are
    marked for translation where they are declared, and translated on pages and PDFs with
    :func:`translated`). ``number_label`` names the number under the title; ``number_fact`` is the
    fact that holds it, when it is not the document's serial."""

    title: str
    authority: str
    number_label: str
    number_fact: str = ""


# A fact's label as every issuer prints it, so a document's pages and its PDF say the same.
SERIAL_LABEL: Final = gettext_noop("Serial number")
VALID_UNTIL_LABEL: Final = gettext_noop("Valid until")
# The person a document is about, when it states them by name and UIN (a birth or death
# certificate): its holder may be someone else (a parent, a relative).
NAME_LABEL: Final = gettext_noop("Name")
UIN_LABEL: Final = gettext_noop("UIN")

DOCUMENT_KINDS: dict[str, DocumentKind] = {}


def document_kind_register(kind: str, description: DocumentKind) -> None:
    DOCUMENT_KINDS[kind] = description


def document_kind(kind: str) -> DocumentKind | None:
    return DOCUMENT_KINDS.get(kind)


# How the value of a fact is put into words, by the fact's English label: a fact stores a code (a
# sex, a parish), the same in every language, and is shown in the reader's words. Each issuer
# registers its own at start-up, beside its document kinds.
FACT_WORDS: dict[str, Callable[[str], str]] = {}


def fact_words_register(label: str, words: Callable[[str], str]) -> None:
    FACT_WORDS[label] = words


def translated(text: str) -> str:
    """A title or label of a document in the reader's language (signed in English)."""
    return gettext(text) if text else text


def fact_value(label: str, value: str) -> str:
    """The value of a fact in the reader's words (a code spelt out); other values as stored."""
    words = FACT_WORDS.get(label)
    return words(value) if words is not None and value else value


def translated_facts(facts: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """A document's facts as (label, value) in the reader's language, for a page or a PDF."""
    return [(translated(str(label)), fact_value(str(label), str(value))) for label, value in facts]

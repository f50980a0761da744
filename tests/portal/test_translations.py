"""The platform speaks English, Spanish, French and Dutch: every message of the code and templates
is translated and compiled, a citizen who picks a language gets the pages in it, and every text of
every service definition is there in all four languages."""

from __future__ import annotations

import ast
import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import Client

from gov21.onestop import definitions

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
PYTHON_FORMAT = re.compile(r"%\((\w+)\)[sd]")
PLACEHOLDER = re.compile(r"\(\((\w+)\)\)")


@dataclass
class Entry:
    msgid: str = ""
    plural: str | None = None
    context: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def _po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry = Entry()
    seen_msgid = False
    target: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal entry, seen_msgid, target
        if seen_msgid:
            entries.append(entry)
        entry, seen_msgid, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if seen_msgid:
                flush()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        else:
            keyword, _, rest = line.partition(" ") if not line.startswith('"') else ("", "", line)
            value = ast.literal_eval(rest) if rest else ""
            if keyword == "msgctxt":
                if seen_msgid:
                    flush()
                entry.context, target = value, ("context", 0)
            elif keyword == "msgid":
                if seen_msgid:
                    flush()
                entry.msgid, seen_msgid, target = value, True, ("msgid", 0)
            elif keyword == "msgid_plural":
                entry.plural, target = value, ("plural", 0)
            elif keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                entry.msgstrs += [""] * (index + 1 - len(entry.msgstrs))
                entry.msgstrs[index] = value
                target = ("msgstr", index)
            else:
                assert target is not None, f"{path}: unexpected line {raw!r}"
                kind, index = target
                if kind == "msgstr":
                    entry.msgstrs[index] += value
                elif kind == "context":
                    entry.context = (entry.context or "") + value
                elif kind == "plural":
                    entry.plural = (entry.plural or "") + value
                else:
                    entry.msgid += value
    flush()
    return entries


def _mo(path: Path) -> dict[str, str]:
    """The strings of a compiled .mo file, keyed as msgfmt keys them (context\\x04msgid\\x00plural)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    found = {}
    for i in range(count):
        olen, ooff = struct.unpack(order + "2I", data[originals + 8 * i : originals + 8 * i + 8])
        tlen, toff = struct.unpack(order + "2I", data[translations + 8 * i : translations + 8 * i + 8])
        found[data[ooff : ooff + olen].decode()] = data[toff : toff + tlen].decode()
    return found


def _key(entry: Entry) -> str:
    key = entry.msgid if entry.plural is None else f"{entry.msgid}\x00{entry.plural}"
    return key if entry.context is None else f"{entry.context}\x04{key}"


def _messages(language: str) -> list[Entry]:
    return [e for e in _po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po") if e.msgid]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    entries = _po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    header, messages = entries[0], entries[1:]
    assert header.msgid == "" and "fuzzy" not in header.flags, "the header is fuzzy: its plural forms are ignored"
    assert f"Language: {language}\n" in header.msgstrs[0]
    plurals = int(re.search(r"nplurals=(\d+)", header.msgstrs[0]).group(1))  # type: ignore[union-attr]
    assert len(messages) > 500, "makemessages found almost nothing: is the catalogue the right one?"

    assert [e.msgid for e in messages if not all(e.msgstrs)] == []
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    assert [e.msgid for e in messages if e.plural is not None and len(e.msgstrs) != plurals] == []
    # A translation that drops or renames a placeholder breaks the page at run time.
    broken = [
        (e.msgid, text)
        for e in messages
        for text in e.msgstrs
        if not set(PYTHON_FORMAT.findall(text)) <= set(PYTHON_FORMAT.findall(e.msgid + (e.plural or "")))
        or (e.plural is None and set(PYTHON_FORMAT.findall(text)) != set(PYTHON_FORMAT.findall(e.msgid)))
    ]
    assert broken == []


def test_makemessages_finds_no_new_untranslated_or_fuzzy_message(tmp_path: Path) -> None:
    """The catalogues are checked as makemessages would leave them: a message added to the code or a
    template and never extracted is as English-only as one extracted and left untranslated."""
    copy = tmp_path / "gov21"
    shutil.copytree(LOCALE_DIR.parent, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # makemessages writes into the first of LOCALE_PATHS: point it at the copy, never the source tree.
    (tmp_path / "makemessages_settings.py").write_text(
        f"from gov21.settings import *  # noqa: F403\nLOCALE_PATHS = [{str(copy / 'locale')!r}]\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(LOCALE_DIR.parents[1])]),
        "DJANGO_SETTINGS_MODULE": "makemessages_settings",
        "GOV21_DATA_DIR": str(tmp_path / "data"),
    }
    languages = [arg for code in TRANSLATED for arg in ("-l", code)]
    result = subprocess.run(
        # -P: the working directory is the package, whose app `statistics` must not stand in for the
        # standard library's module of that name.
        [sys.executable, "-P", "-m", "django", "makemessages", *languages, "--no-location"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for language in TRANSLATED:
        messages = [e for e in _po(copy / "locale" / language / "LC_MESSAGES" / "django.po") if e.msgid]
        missing = [e.msgid for e in messages if not all(e.msgstrs) or "fuzzy" in e.flags]
        assert missing == [], f"{language}: translate these, then run makemessages and compilemessages"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_up_to_date_with_its_po_file(language: str) -> None:
    # Compared by content, not by date: a git checkout writes both files at once in any order, and
    # a stale .mo is what makes pages show English after a .po was translated.
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    expected = {_key(e): "\x00".join(e.msgstrs) for e in _po(folder / "django.po") if all(e.msgstrs)}
    compiled = _mo(folder / "django.mo")
    # Newer msgfmt leaves the extraction date out of the compiled header; it changes no translation.
    for catalogue in (expected, compiled):
        catalogue[""] = re.sub(r"POT-Creation-Date: [^\n]*\n", "", catalogue.get("", ""))
    assert sorted(set(expected) ^ set(compiled)) == [], "run compilemessages"
    assert [k for k in expected if expected[k] != compiled[k]] == [], "run compilemessages"


# A string from the templates' catalogue and a service title from the definitions, for each language.
PAGES = {
    "es": ("Servicios públicos", "Renovar un permiso de conducir", "Inicie sesión con su identidad digital"),
    "fr": ("Services publics", "Renouveler un permis de conduire", "Connectez-vous avec votre identité numérique"),
    "nl": ("Overheidsdiensten", "Een rijbewijs verlengen", "Log in met uw digitale identiteit"),
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_citizen_who_chooses_a_language_reads_the_portal_in_it(language: str) -> None:
    definitions.definitions_load()
    client = Client()
    english = client.get("/").content.decode()
    assert '<html lang="en"' in english and "Public services" in english

    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()

    assert f'<html lang="{language}"' in page
    for text in PAGES[language]:
        assert text in page
    assert "Public services" not in page and "Renew a driving licence" not in page


def _texts(node: Any, where: str = "") -> list[tuple[str, dict[str, str]]]:
    """Every text object of a definition ({en: ..., es: ...}), with where it is."""
    if isinstance(node, dict):
        if "en" in node:
            return [(where, node)]
        return [found for key, value in node.items() for found in _texts(value, f"{where}/{key}")]
    if isinstance(node, list):
        return [found for i, value in enumerate(node) for found in _texts(value, f"{where}/{i}")]
    return []


@pytest.mark.parametrize("path", sorted(definitions.DEFINITIONS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_text_of_a_service_definition_is_in_every_language(path: Path) -> None:
    texts = _texts(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert len(texts) > 10

    languages = [code for code, _ in settings.LANGUAGES]
    assert [where for where, text in texts if sorted(text) != sorted(languages)] == []
    assert [where for where, text in texts if not all(isinstance(v, str) and v.strip() for v in text.values())] == []
    # Notifications fill ((placeholders)) by name: each language must keep the English ones.
    assert [
        (where, code)
        for where, text in texts
        for code in languages
        if sorted(PLACEHOLDER.findall(text[code])) != sorted(PLACEHOLDER.findall(text["en"]))
    ] == []

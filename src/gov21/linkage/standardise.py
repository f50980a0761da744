"""Standardising what agencies wrote: case, accents, titles and suffixes, nicknames and the region's
spelling variants of names, dates written several ways (a day and month that may have been swapped
is flagged), and addresses reduced to the words that identify them. Pure functions, no database:
the same code standardises an agency's file, the registry's index and the benchmarks' data."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

import jellyfish

TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "rev",
        "sir",
        "dame",
        "hon",
        "sr",
        "sra",
        "srta",
        "don",
        "dona",
        "mme",
        "mlle",
        "m",
        "dhr",
        "mevr",
        "mw",
        "fr",
        "sis",
        "bro",
    }
)
SUFFIXES = frozenset(["jr", "jnr", "junior", "snr", "senior", "ii", "iii", "iv"])
# Given names written for one another in the region's registers: nicknames, short forms and the
# English, Spanish, French and Dutch spellings of one name, each mapped to one canonical form.
_VARIANTS = {
    "william": "bill billy will willie willy wim willem guillermo guillaume",
    "robert": "bob bobby rob robbie roberto",
    "richard": "dick rick ricky richie ricardo",
    "elizabeth": "liz lizzie beth betty bessie eliza elisabeth isabel isabelle elsbeth",
    "margaret": "maggie meg peggy marge margarita marguerite greta",
    "katherine": "kate kathy katie catherine kathryn cathy catalina catharina",
    "james": "jim jimmy jamie diego jacques jaime",
    "john": "johnny jack juan jean jan johan johannes",
    "joseph": "joe joey jose josef",
    "michael": "mike mickey mick miguel michel michiel",
    "thomas": "tom tommy tomas",
    "charles": "charlie chuck carlos karel",
    "francis": "frank frankie francisco francois frans",
    "anthony": "tony antonio antoine anton",
    "edward": "ed eddie ted teddy eduardo edouard",
    "alexander": "alex sandy alejandro alexandre alexandra",
    "patricia": "pat patty trish",
    "jennifer": "jen jenny",
    "deborah": "debbie deb debra",
    "susan": "sue susie suzanne susana",
    "mary": "maria marie mae molly polly",
    "ann": "anne anna annie ana nancy",
    "dorothy": "dot dottie dolly",
    "peter": "pete pedro pierre pieter",
    "paul": "pablo paulo",
    "henry": "harry hank enrique henri hendrik",
    "stephen": "steve steven esteban etienne",
    "christopher": "chris kit cristobal christophe",
    "daniel": "dan danny",
    "samuel": "sam sammy",
    "benjamin": "ben benny",
    "nicholas": "nick nicolas nicolaas klaas",
    "andrew": "andy drew andres andre",
    "david": "dave davey",
    "matthew": "matt mateo mathieu",
    "jacqueline": "jackie jacquie",
    "rebecca": "becky becca",
    "victoria": "vicky tori",
    "cynthia": "cindy",
    "rosemary": "rose rosie rosa",
    "theresa": "terry tess teresa therese",
    "josephine": "jo josie josefina",
    "gerald": "gerry jerry",
    "lawrence": "larry laurence lorenzo",
    "leonard": "len lenny leo",
    "ronald": "ron ronnie",
    "donald": "don donnie",
    "kenneth": "ken kenny",
    "dwayne": "duane dwane",
    "shaniqua": "shaniqa",
    "keisha": "kisha keshia",
    "tyrone": "tyron",
}
NICKNAMES: dict[str, str] = {
    variant: name for name, variants in _VARIANTS.items() for variant in (name, *variants.split())
}
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
ADDRESS_WORDS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "ln": "lane",
    "hwy": "highway",
    "no": "",
    "number": "",
    "apt": "",
    "the": "",
    "calle": "street",
    "rue": "street",
    "straat": "street",
    "weg": "road",
    "camino": "road",
    "avenida": "avenue",
}


def fold(text: str | None) -> str:
    """Lower case, without accents or punctuation, single-spaced."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = plain.replace("'", "").replace("-", " ")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", plain)).strip()


def name_words(text: str | None) -> list[str]:
    return [w for w in fold(text).split() if w not in TITLES and w not in SUFFIXES]


def given_std(text: str | None) -> str:
    """Given names, canonical: titles dropped and each name's nickname or variant put as its name."""
    return " ".join(NICKNAMES.get(w, w) for w in name_words(text))


def surname_std(text: str | None) -> str:
    return " ".join(name_words(text))


def phonetic(text: str) -> str:
    """The Double-Metaphone-like code of a name's first word (jellyfish's metaphone)."""
    first = text.split(" ", 1)[0] if text else ""
    return jellyfish.metaphone(first) if first else ""


@dataclass(frozen=True, slots=True)
class ParsedDate:
    value: date | None
    # The day and month could be read either way round (both 12 or less and different).
    ambiguous: bool = False
    # The text was there but no reading of it is a real date.
    invalid: bool = False


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4}|\d{2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            "jan january enero janvier januari",
            "feb february febrero fevrier februari",
            "mar march marzo mars maart",
            "apr april abril avril",
            "may mayo mai mei",
            "jun june junio juin juni",
            "jul july julio juillet juli",
            "aug august agosto aout augustus",
            "sep sept september septiembre septembre",
            "oct october octubre octobre oktober",
            "nov november noviembre novembre",
            "dec december diciembre decembre",
        ]
    )
    for m in names.split()
}
_WORDY = re.compile(r"(\d{1,2}) ([a-z]+) (\d{4})|([a-z]+) (\d{1,2}) (\d{4})")


def _day(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def date_parse(text: object) -> ParsedDate:
    """A date written as 2009-03-04, 04/03/2009, 4.3.09, 20090304, 4 March 2009 or March 4 2009; day
    first where the writing is numeric (the region's usage), month first when day first is no date."""
    if text is None:
        return ParsedDate(None)
    if isinstance(text, date):
        return ParsedDate(text)
    raw = str(text).strip()
    if not raw:
        return ParsedDate(None)
    if match := _ISO.fullmatch(raw):
        y, m, d = (int(g) for g in match.groups())
        return ParsedDate(_day(y, m, d), invalid=_day(y, m, d) is None)
    if match := _COMPACT.fullmatch(raw):
        y, m, d = (int(g) for g in match.groups())
        return ParsedDate(_day(y, m, d), invalid=_day(y, m, d) is None)
    if match := _DMY.fullmatch(raw):
        d, m, y = (int(g) for g in match.groups())
        if y < 100:
            y += 1900 if y > datetime.now(tz=UTC).year % 100 else 2000
        first = _day(y, m, d) or _day(y, d, m)
        return ParsedDate(first, ambiguous=first is not None and d != m and d <= 12 and m <= 12, invalid=first is None)
    words = fold(raw)
    if match := _WORDY.fullmatch(words):
        d_s, mon, y_s = (match.group(1), match.group(2), match.group(3))
        if d_s is None:
            mon, d_s, y_s = match.group(4), match.group(5), match.group(6)
        month = _MONTHS.get(mon)
        value = _day(int(y_s), month, int(d_s)) if month else None
        return ParsedDate(value, invalid=value is None)
    return ParsedDate(None, invalid=True)


def sex_std(text: str | None) -> str:
    value = fold(text)
    if value in ("f", "female", "femme", "femenino", "vrouw", "v", "w", "woman"):
        return "F"
    if value in ("m", "male", "homme", "masculino", "man", "h"):
        return "M"
    return ""


def address_std(text: str | None, *, streets: frozenset[str] = frozenset()) -> str:
    """An address line reduced to its words, abbreviations written out; a misspelt street the
    registry knows is put right when it is close enough to one name only."""
    words = [ADDRESS_WORDS.get(w, w) for w in fold(text).split()]
    line = " ".join(w for w in words if w)
    if streets and line not in streets:
        from rapidfuzz import process
        from rapidfuzz.distance import JaroWinkler

        best = process.extract(line, streets, scorer=JaroWinkler.normalized_similarity, limit=2)
        if best and best[0][1] >= 0.93 and (len(best) == 1 or best[1][1] < best[0][1] - 0.02):
            return str(best[0][0])
    return line


def place_std(text: str | None, *, known: dict[str, str] | None = None) -> str:
    """A settlement or parish: folded, and mapped to the registry's spelling when it knows it."""
    value = fold(text)
    if known:
        return known.get(value, value)
    return value


def phone_std(text: str | None) -> str:
    digits = re.sub(r"\D", "", str(text or ""))
    return digits[-7:] if len(digits) >= 7 else ""

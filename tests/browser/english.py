"""Finds English sentences in a page meant to be in Spanish, French or Dutch.

The page's visible text is cut into runs (its lines, as the browser lays them out, and each visible
attribute a person reads or hears: alt, title, aria-label, placeholder, the value of a button), and a
run is English when it holds two or more words from a short list of English function words and
interface words. Words that are also words of the page's language ("is" and "of" in Dutch, "page" in
French, "has" in Spanish) are not counted, so a sentence of the page's language is never taken for
English. Words with digits, codes and addresses carry no such words and pass untouched; names that
stay in English by design are listed in ``ALLOWED`` and removed from a run before it is read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _words(text: str) -> list[str]:
    return text.split()


# Common English words that carry no meaning of their own, and the words of the interface most often
# left untranslated. Two of them in one run make it English.
MARKERS = frozenset(
    _words(
        """
    the and your yours you is are was were be been being of to with this that these those have has had
    will would not for from by at on an or it its we our us they their them can cannot could should
    must may what which who whom when where why how there here if then than into about after before
    please enter sign page yet only any each every more other some such as do does did so up out just
    also my me i ask asked used use uses republic ministry registration office account continue
    back cancel submit search allow share data shared services service check code registry development
    department agency
    """
    )
)

# Words of the page's language that are spelt like one of the markers: never counted on its pages.
SAME_SPELLING = {
    "es": frozenset(_words("a me has as do use")),
    "fr": frozenset(_words("a on as me an or page office continue service services code use")),
    "nl": frozenset(_words("is of was in we had been as me data code service services")),
}

# Names that stay as they are in every language: the platform's own name, and names of places and
# streets in the demonstration data.
ALLOWED = ("gov21",)

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CODE = re.compile(r"\W*(?:\S*\d\S*|[A-Z0-9]{8,})\W*")


def english_words(run: str, *, language: str) -> list[str]:
    """The marker words in ``run`` that are not also words of ``language``."""
    for name in ALLOWED:
        run = run.replace(name, " ")
    own = SAME_SPELLING.get(language, frozenset())
    # A token with a digit, or a long one in capitals, is a code (a reference, a TOTP key in base32):
    # the letters inside it ("DO", "I") are no words.
    words = [m.lower() for token in run.split() if not _CODE.fullmatch(token) for m in _WORD.findall(token)]
    return [w for w in words if w in MARKERS and w not in own]


def english_sentences(runs: Iterable[str], *, language: str) -> list[str]:
    """The runs that read as English on a page in ``language``."""
    found: list[str] = []
    for run in runs:
        run = " ".join(run.split())
        if run and len(english_words(run, language=language)) >= 2 and run not in found:
            found.append(run)
    return found


# The runs of the page a person sees or hears: each line of the rendered text (innerText leaves out
# what is hidden and keeps what only a screen reader reads), the options of each list, the title, and
# the visible attributes of the elements that are shown.
_RUNS_JS = """() => {
  const runs = [document.title];
  for (const line of document.body.innerText.split(/\\n+/)) runs.push(line);
  for (const o of document.querySelectorAll('option')) runs.push(o.textContent);
  const shown = e => e.getClientRects().length > 0;
  for (const e of document.body.querySelectorAll('[alt], [title], [aria-label], [placeholder]')) {
    if (!shown(e)) continue;
    for (const a of ['alt', 'title', 'aria-label', 'placeholder']) {
      if (e.hasAttribute(a)) runs.push(e.getAttribute(a));
    }
  }
  for (const e of document.querySelectorAll('input[type=submit], input[type=button], input[type=reset]')) {
    runs.push(e.value);
  }
  return runs;
}"""


def page_runs(page: Page) -> list[str]:
    return [str(run) for run in page.evaluate(_RUNS_JS) if run]


def page_english(page: Page) -> list[str]:
    """The English sentences on the page now shown, read in the language its <html lang> declares."""
    language = str(page.locator("html").get_attribute("lang") or "en")
    return english_sentences(page_runs(page), language=language)

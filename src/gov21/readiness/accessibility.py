"""The accessibility indicator: the portal's public pages, requested as a visitor would and checked
against the WCAG 2.2 rules that can be decided from the HTML alone. What needs a browser (colour
contrast, focus order, behaviour of scripts, zoom) is not checked here: the browser tests with
axe-core cover it, and decision 0066 says where the line is."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final

# The public pages a visitor reaches without signing in (each in the default language).
PAGES: Final = ("/", "/services", "/dataset/", "/statistics/", "/participation/", "/readiness/")

# rule code -> the WCAG 2.2 success criterion it checks
RULES: Final = {
    "html-lang": "3.1.1",
    "document-title": "2.4.2",
    "image-alt": "1.1.1",
    "form-label": "1.3.1, 4.1.2",
    "heading-one": "1.3.1",
    "heading-order": "1.3.1",
    "landmark-main": "1.3.1",
    "link-name": "2.4.4, 4.1.2",
    "duplicate-id": "4.1.1",
}

_UNLABELLED_INPUTS: Final = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class _Link:
    named: bool


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.failures: set[str] = set()
        self.lang = False
        self.title = ""
        self.in_title = False
        self.mains = 0
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.controls: list[str] = []  # ids of controls that need a label from elsewhere ("" for none)
        self.links: list[_Link] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        ident = a.get("id", "")
        if ident:
            if ident in self.ids:
                self.failures.add("duplicate-id")
            self.ids.add(ident)
        named = bool(a.get("aria-label", "").strip() or a.get("aria-labelledby", "").strip())
        if tag == "html":
            self.lang = bool(a.get("lang", "").strip())
        elif tag == "title":
            self.in_title = True
        elif tag == "main" or a.get("role") == "main":
            self.mains += 1
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        elif tag == "img":
            if "alt" not in a and not named:
                self.failures.add("image-alt")
            if self.links and a.get("alt", "").strip():
                self.links[-1].named = True
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and a.get("type", "text").lower() in _UNLABELLED_INPUTS:
                return
            if not (named or a.get("title", "").strip() or self.label_depth):
                self.controls.append(ident)
        elif tag == "a" and "href" in a:
            self.links.append(_Link(named=named))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "label" and self.label_depth:
            self.label_depth -= 1
        elif tag == "a" and self.links:
            link = self.links.pop()
            if not link.named:
                self.failures.add("link-name")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.links and data.strip():
            self.links[-1].named = True

    def result(self) -> tuple[str, ...]:
        found = set(self.failures)
        if not self.lang:
            found.add("html-lang")
        if not self.title.strip():
            found.add("document-title")
        if self.mains != 1:
            found.add("landmark-main")
        if 1 not in self.headings:
            found.add("heading-one")
        if any(b > a + 1 for a, b in zip(self.headings, self.headings[1:], strict=False)):
            found.add("heading-order")
        if any(not ident or ident not in self.label_for for ident in self.controls):
            found.add("form-label")
        return tuple(sorted(found))


def html_check(html: str) -> tuple[str, ...]:
    """The rules (codes of :data:`RULES`) that ``html`` fails; empty when it passes them all."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.result()


@dataclass(frozen=True, slots=True)
class PageResult:
    path: str
    status: int
    failures: tuple[str, ...] = field(default=())


def pages_check(paths: tuple[str, ...] = PAGES) -> list[PageResult]:
    """Request each public page through the whole web stack (middleware, templates, languages),
    as an anonymous visitor, and check its HTML. A page that does not answer 200 fails as
    ``unavailable``."""
    from django.conf import settings
    from django.test import Client

    hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*"]
    visitor = Client(HTTP_HOST=hosts[0] if hosts else "localhost", HTTP_ACCEPT_LANGUAGE="en")
    results = []
    for path in paths:
        response = visitor.get(path, secure=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            results.append(PageResult(path, response.status_code, ("unavailable",)))
            continue
        results.append(PageResult(path, 200, html_check(response.content.decode(response.charset or "utf-8"))))
    return results


__all__ = ["PAGES", "RULES", "PageResult", "html_check", "pages_check"]

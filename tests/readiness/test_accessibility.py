"""The accessibility indicator's checks: each rule found on HTML that breaks it and not on HTML that
keeps it, and the public pages checked through the whole web stack."""

from __future__ import annotations

import pytest

from gov21.readiness.accessibility import PAGES, html_check, pages_check

GOOD = """<!doctype html><html lang="en"><head><title>Renew a licence</title></head><body>
<header><a href="/"><img src="/logo.svg" alt="gov21"></a></header>
<main><h1>Renew</h1><h2>Before you start</h2><h3>Fees</h3><h2>Apply</h2>
<form><label for="n">Number</label><input id="n" name="n"><label>Email <input type="email" name="e"></label>
<select aria-label="Parish"><option>1</option></select><input type="hidden" name="t"><button>Go</button></form>
<img src="/x.png" alt=""><a href="/next">Next</a></main></body></html>"""


def test_a_page_that_keeps_every_rule_passes() -> None:
    assert html_check(GOOD) == ()


@pytest.mark.parametrize(
    ("broken", "rule"),
    [
        (GOOD.replace(' lang="en"', ""), "html-lang"),
        (GOOD.replace("<title>Renew a licence</title>", "<title> </title>"), "document-title"),
        (GOOD.replace(' alt=""', ""), "image-alt"),
        (GOOD.replace('<label for="n">Number</label>', "Number"), "form-label"),
        (GOOD.replace(' aria-label="Parish"', ""), "form-label"),
        (GOOD.replace("<h1>Renew</h1>", "<p>Renew</p>"), "heading-one"),
        (GOOD.replace("<h3>Fees</h3>", "<h4>Fees</h4>"), "heading-order"),
        (GOOD.replace("<main>", "<div>").replace("</main>", "</div>"), "landmark-main"),
        (GOOD.replace("<main>", "<main><main>"), "landmark-main"),
        (GOOD.replace(">Next</a>", "></a>"), "link-name"),
        (GOOD.replace('alt="gov21"', 'alt=""'), "link-name"),
        (GOOD.replace('id="n"', 'id="n"><span id="n"'), "duplicate-id"),
    ],
)
def test_each_rule_is_found_where_it_is_broken(broken: str, rule: str) -> None:
    assert rule in html_check(broken)


@pytest.mark.django_db
def test_the_public_pages_are_requested_and_checked(exchange: None) -> None:
    results = {r.path: r for r in pages_check()}
    assert set(results) == set(PAGES)
    # The portal's home page answers and keeps every rule checked here.
    assert results["/"].status == 200 and results["/"].failures == ()
    missing = pages_check(("/no-such-page/",))[0]
    assert (missing.status, missing.failures) == (404, ("unavailable",))

"""Page weight of the one-stop shop: the bytes a citizen's browser receives for the driving-licence
renewal's start page, a question page and "My profile" (and the home page and check-your-answers
page for comparison), uncompressed and with gzip, and whatever else those pages would make the
browser fetch (external style sheets, scripts, images, fonts, frames: there should be none).

    .venv/bin/python bench/page_weight.py [--people 20000]

Prepares a scratch data directory and one citizen with an account and a licence as
``bench/portal_load.py`` does, starts gunicorn on 127.0.0.1, signs the citizen in through the
OpenID Connect provider and walks to each page over HTTP with ``Accept-Encoding: gzip, br``, as a
browser would. "HTML bytes" is the page itself, what a server that does not compress sends; "sent"
is what came over the wire: gzip from ``gov21 up`` since decision 0037 (Django's GZipMiddleware,
with a few random bytes against BREACH), the page itself from an older gov21. "gzip -6" is the size
``gzip -6`` gives the same bytes, for comparison.
The sizes do not depend on load, so one pass is enough; the profile and check pages vary a little
with the person (names, address, licences).

The target is ≤ 100 KB per page (uncompressed HTML, the whole page since nothing else is fetched).
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from portal_load import (
    browser_sign_in,
    citizens_prepare,
    csrf_from,
    django_setup,
    free_port,
    nation_prepare,
    path_of,
    print_table,
    server_start,
    server_stop,
    stop_on_sigterm,
)

TARGET_BYTES = 100 * 1000
SERVICE = "renew-driving-licence"
# Anything in a page that makes a browser fetch another resource.
EXTERNAL = (
    ("style sheet", re.compile(r"<link\b[^>]*\brel=[\"']?[^>]*stylesheet", re.I)),
    (
        "other <link> fetched (icon, preload, font)",
        re.compile(r"<link\b[^>]*\brel=[\"']?(?:icon|preload|prefetch|manifest|apple-touch-icon)", re.I),
    ),
    ("script", re.compile(r"<script\b[^>]*\bsrc=", re.I)),
    ("image", re.compile(r"<img\b|<image\b[^>]*href=|<input\b[^>]*type=[\"']?image", re.I)),
    ("frame or object", re.compile(r"<(?:iframe|frame|object|embed)\b", re.I)),
    ("media", re.compile(r"<(?:video|audio|source|track)\b", re.I)),
    ("CSS url() or @import", re.compile(r"url\(|@import", re.I)),
)
INLINE_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.I | re.S)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.I | re.S)
INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.I | re.S)


def weigh(name: str, response: Any) -> dict[str, Any]:
    body: bytes = response.content
    if response.status_code != 200:
        raise SystemExit(f"{name}: {response.status_code}")
    html = body.decode("utf-8", "replace")
    external = {label: len(pattern.findall(html)) for label, pattern in EXTERNAL}
    header_bytes = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + len("HTTP/1.1 200 OK\r\n\r\n")
    return {
        "page": name,
        "html_bytes": len(body),
        "gzip_bytes": len(gzip.compress(body, compresslevel=6)),
        "header_bytes": header_bytes,
        "content_encoding": response.headers.get("content-encoding", "none"),
        "wire_bytes": response.num_bytes_downloaded,
        "style_bytes": sum(len(m.encode()) for m in INLINE_STYLE.findall(html)),
        "script_bytes": sum(len(m.encode()) for m in INLINE_SCRIPT.findall(html)),
        "svg_bytes": sum(len(m.encode()) for m in INLINE_SVG.findall(html)),
        "external": {k: v for k, v in external.items() if v},
    }


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--people", type=int, default=20000, help="Size of the demo nation.")
    parser.add_argument("--citizens", type=int, default=3, help="Citizens whose pages are weighed.")
    args = parser.parse_args()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-weight-")) if own_dir else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        pages = measure(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    report(pages)


def measure(args: argparse.Namespace, data_dir: Path) -> list[list[dict[str, Any]]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    nation_prepare(data_dir, base_url, args.people)
    django_setup(data_dir, base_url)
    citizens = citizens_prepare(args.citizens)
    server = server_start(data_dir, port, workers=2, threads=4)
    weighed: list[list[dict[str, Any]]] = []
    try:
        for citizen in citizens:
            pages: list[dict[str, Any]] = []
            web = browser_sign_in(base_url, citizen, next_url="/my/")
            web.headers["Accept-Encoding"] = "gzip, br"
            pages.append(weigh("home", web.get("/")))
            start = web.get(f"/services/{SERVICE}")
            pages.append(weigh("start page", start))
            response = web.post(f"/services/{SERVICE}/start", data={"csrfmiddlewaretoken": csrf_from(start.text)})
            consent = path_of(response.headers["location"])
            form = web.get(consent)
            response = web.post(consent, data={"agree": "yes", "csrfmiddlewaretoken": csrf_from(form.text)})
            reference = consent.split("/")[2]
            question = web.get(f"/apply/{reference}/q/licence_number")
            pages.append(weigh("question page (licence number)", question))
            for qid, value in (("licence_number", citizen["licence"]), ("health", "no"), ("email", "")):
                form = web.get(f"/apply/{reference}/q/{qid}")
                web.post(f"/apply/{reference}/q/{qid}", data={qid: value, "csrfmiddlewaretoken": csrf_from(form.text)})
            pages.append(weigh("check your answers", web.get(f"/apply/{reference}/check")))
            pages.append(weigh("my profile", web.get("/my/profile")))
            # The icon a page names (an older gov21 names none, and browsers ask for /favicon.ico).
            favicon = web.get("/favicon.svg")
            if favicon.status_code == 404:
                favicon = web.get("/favicon.ico")
            cache = favicon.headers.get("cache-control", "none")
            for page in pages:
                page["favicon"] = f"{favicon.url.path}: {favicon.status_code}, {len(favicon.content):,} bytes, {cache}"
            web.close()
            weighed.append(pages)
    finally:
        server_stop(server)
    return weighed


def report(weighed: list[list[dict[str, Any]]]) -> None:
    import statistics

    rows: list[tuple[str, ...]] = [
        (
            "Page (median of citizens)",
            "HTML bytes",
            "gzip -6",
            "headers",
            "inline CSS",
            "inline JS",
            "inline SVG",
            "sent",
            "encoding",
            "external resources",
            "≤ 100 KB",
        )
    ]
    for i, first in enumerate(weighed[0]):
        same = [pages[i] for pages in weighed]

        def med(key: str, same: list[dict[str, Any]] = same) -> int:
            return int(statistics.median(p[key] for p in same))

        external = {k: v for p in same for k, v in p["external"].items()}
        rows.append(
            (
                first["page"],
                f"{med('html_bytes'):,}",
                f"{med('gzip_bytes'):,}",
                f"{med('header_bytes'):,}",
                f"{med('style_bytes'):,}",
                f"{med('script_bytes'):,}",
                f"{med('svg_bytes'):,}",
                f"{med('wire_bytes'):,}",
                first["content_encoding"],
                ", ".join(f"{k}: {v}" for k, v in external.items()) or "none",
                "yes" if med("html_bytes") <= TARGET_BYTES else "NO",
            )
        )
    print(f"\nPage weight over HTTP, {len(weighed)} citizens (sizes in bytes; 100 KB = 100,000 bytes)\n")
    print_table(rows)
    print(f"\nThe icon: {weighed[0][0]['favicon']}")


if __name__ == "__main__":
    main()

"""Where one userinfo request's time goes, in this process: the SQL it runs and its CPU, with the
access token asked again (as a relying party does) and, with ``--fresh``, with a new token each time.

    PYTHONPATH=src .venv/bin/python bench/userinfo_profile.py [--calls 200] [--top 40]

Prepares a temporary data directory as ``bench/oidc.py`` does (one person with an authenticator
app, one ``private_key_jwt`` relying party), signs in, consents and gets an access token through
Django's test client, then calls ``/oidc/userinfo``: prints the statements of one call, the median
CPU of ``--calls`` calls, and cProfile's top functions over as many more. Nothing is written to the
repository; the directory is removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import oidc as bench


def _access_token(web: Any, prep: dict[str, Any], helper: Any) -> str:
    path, _, verifier = bench._authorize_path(prep["client_id"])
    response = web.get(path)
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": bench.REDIRECT_URI,
        "code_verifier": verifier,
        "client_assertion_type": bench.ASSERTION_TYPE,
        "client_assertion": helper.assertion(),
    }
    response = web.post("/oidc/token", urlencode(form), "application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content[:300]
    return str(response.json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--fresh", action="store_true", help="A new access token for every call.")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-userinfo-"))
    try:
        _run(args, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _run(args: argparse.Namespace, data_dir: Path) -> None:
    issuer = "http://testserver"
    prep = bench._prepare(data_dir, issuer)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from joserfc.jwk import ECKey

    from gov21.identity import totp

    web = Client()
    response = web.post("/auth/sign-in", {"identifier": prep["uin"], "password": bench.PASSWORD})
    assert response.status_code == 302, response.status_code
    step = max(prep["totp_step"] + 1, totp.step_at(time.time()) - 1)
    code = totp.hotp(totp._key(prep["totp_secret"]), step)
    assert web.post("/auth/verify", {"code": code, "next": "/auth/account"}).status_code == 302
    path, _, _ = bench._authorize_path(prep["client_id"])
    assert web.get(path).status_code == 200
    assert web.post(path, {"decision": "allow"}).status_code == 302
    helper = bench.FlowClient.__new__(bench.FlowClient)
    helper.issuer, helper.client_id, helper.kid = issuer, prep["client_id"], prep["kid"]
    helper.key = ECKey.import_key(prep["private_jwk"])
    api = Client()
    kept = _access_token(web, prep, helper)

    def next_token() -> str:
        return _access_token(web, prep, helper) if args.fresh else kept

    def userinfo(access: str) -> None:
        response = api.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
        assert response.status_code == 200, response.content[:300]

    for _ in range(20):
        userinfo(next_token())
    access = next_token()
    with CaptureQueriesContext(connection) as queries:
        userinfo(access)
    print(f"SQL statements of one call: {len(queries.captured_queries)}")
    for query in queries.captured_queries:
        print("   ", query["sql"][:160])
    spent = []
    for _ in range(args.calls):
        access = next_token()  # with --fresh, the token request is not measured
        started = time.process_time()
        userinfo(access)
        spent.append(time.process_time() - started)
    print(f"userinfo CPU, median of {args.calls}: {statistics.median(spent) * 1000:.2f} ms")
    profiler = cProfile.Profile()
    for _ in range(args.calls):
        access = next_token()
        profiler.enable()
        userinfo(access)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()

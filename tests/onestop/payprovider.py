"""A payment provider on loopback that speaks the subset of the GOV.UK Pay public API gov21 uses,
plus the hosted page a citizen pays on. A real HTTP server, so tests exercise the real client.

Run it for the demo with ``python -m tests.onestop.payprovider [port]``: it prints the URL and key
to put in GOV21_PAY_URL and GOV21_PAY_KEY.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_API_PAYMENT = re.compile(r"/v1/payments/([A-Za-z0-9_-]{1,64})")
_PAGE = re.compile(r"/pay/([A-Za-z0-9_-]{1,64})")
_MAX_BODY = 64 * 1024
_FINISHED = frozenset({"success", "failed", "cancelled", "error"})


@dataclass
class _Payment:
    payment_id: str
    amount: int
    reference: str
    description: str
    return_url: str
    status: str = "created"


@dataclass
class LoopbackPayProvider:
    url: str = ""
    key: str = field(default_factory=lambda: "api_test_" + secrets.token_hex(16))
    payments: dict[str, _Payment] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tamper: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)

    def complete(self, payment_id: str, outcome: str) -> None:
        """What the citizen would do on the hosted page: pay ("success") or give up ("cancelled")."""
        if outcome not in ("success", "cancelled", "failed"):
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._lock:
            payment = self.payments[payment_id]
            if payment.status in _FINISHED:
                raise ValueError(f"payment {payment_id} already finished: {payment.status}")
            payment.status = outcome

    def tamper(self, *, http_status: int | None = None, **fields: Any) -> None:
        """Make the next API answer misbehave: another HTTP status and/or fields replaced in its
        JSON (``payment_id``, ``next_url``, ``state``), as a broken or hostile provider would."""
        with self._lock:
            self._tamper.append((http_status, fields))

    def status_of(self, payment_id: str) -> str:
        with self._lock:
            return self.payments[payment_id].status

    def _json(self, payment: _Payment) -> dict[str, Any]:
        self_href = f"{self.url}/v1/payments/{payment.payment_id}"
        links: dict[str, Any] = {"self": {"href": self_href, "method": "GET"}}
        if payment.status not in _FINISHED:
            links["next_url"] = {"href": f"{self.url}/pay/{payment.payment_id}", "method": "GET"}
        return {
            "payment_id": payment.payment_id,
            "amount": payment.amount,
            "reference": payment.reference,
            "description": payment.description,
            "return_url": payment.return_url,
            "state": {"status": payment.status, "finished": payment.status in _FINISHED},
            "_links": links,
        }


def _error(field_name: str | None, description: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": "P0102", "description": description}
    if field_name:
        body["field"] = field_name
    return body


def _validate(data: Any) -> dict[str, Any] | None:
    """GOV.UK Pay's error body for the first thing wrong with a create request, or None."""
    if not isinstance(data, dict):
        return _error(None, "The request body must be a JSON object")
    for name in ("amount", "reference", "description", "return_url"):
        if name not in data:
            return _error(name, f"Missing mandatory attribute: {name}")
    amount = data["amount"]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= 10_000_000:
        return _error("amount", "Invalid attribute value: amount. Must be between 1 and 10000000")
    for name in ("reference", "description"):
        value = data[name]
        if not isinstance(value, str) or not value or len(value) > 255:
            return _error(name, f"Invalid attribute value: {name}. Must be 1 to 255 characters")
    return_url = data["return_url"]
    if (
        not isinstance(return_url, str)
        or len(return_url) > 2000
        or urlsplit(return_url).scheme not in ("http", "https")
        or not urlsplit(return_url).netloc
    ):
        return _error("return_url", "Invalid attribute value: return_url. Must be a valid URL format")
    return None


def _handler(provider: LoopbackPayProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _send_json(self, status: int, data: dict[str, Any]) -> None:
            with provider._lock:
                override = provider._tamper.pop(0) if provider._tamper and self.path.startswith("/v1/") else None
            if override is not None:
                forced, fields = override
                status = forced or status
                if "payment_id" in fields:
                    data["payment_id"] = fields["payment_id"]
                if "next_url" in fields:
                    data.setdefault("_links", {})["next_url"] = {"href": fields["next_url"], "method": "GET"}
                if "state" in fields:
                    data["state"] = {"status": fields["state"], "finished": fields["state"] in _FINISHED}
            self._send(status, json.dumps(data).encode(), "application/json")

        def _authorised(self) -> bool:
            expected = f"Bearer {provider.key}"
            given = self.headers.get("Authorization", "")
            if secrets.compare_digest(given.encode(), expected.encode()):
                return True
            self._send_json(401, {"code": "P0900", "description": "Unauthorized"})
            return False

        def _body(self) -> bytes | None:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= _MAX_BODY:
                self._send_json(400, _error(None, "Missing or oversized body"))
                return None
            return self.rfile.read(length)

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/v1/payments":
                self._create()
            elif match := _PAGE.fullmatch(path):
                self._page_submit(match.group(1))
            else:
                self._send_json(404, {"code": "P0200", "description": "Not found"})

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if match := _API_PAYMENT.fullmatch(path):
                if not self._authorised():
                    return
                with provider._lock:
                    payment = provider.payments.get(match.group(1))
                    data = provider._json(payment) if payment else None
                if data is None:
                    self._send_json(404, {"code": "P0200", "description": "Not found"})
                else:
                    self._send_json(200, data)
            elif match := _PAGE.fullmatch(path):
                self._page(match.group(1))
            else:
                self._send_json(404, {"code": "P0200", "description": "Not found"})

        def _create(self) -> None:
            if not self._authorised():
                return
            raw = self._body()
            if raw is None:
                return
            try:
                data = json.loads(raw)
            except ValueError:
                self._send_json(400, _error(None, "The request body is not JSON"))
                return
            problem = _validate(data)
            if problem:
                self._send_json(400, problem)
                return
            payment = _Payment(
                payment_id=secrets.token_hex(13),
                amount=data["amount"],
                reference=data["reference"],
                description=data["description"],
                return_url=data["return_url"],
            )
            with provider._lock:
                provider.payments[payment.payment_id] = payment
                answer = provider._json(payment)
            self._send_json(201, answer)

        def _page(self, payment_id: str) -> None:
            with provider._lock:
                payment = provider.payments.get(payment_id)
                if payment and payment.status == "created":
                    payment.status = "started"  # as GOV.UK Pay does once the citizen opens the page
            if payment is None:
                self._send(404, b"<!doctype html><title>Not found</title><p>No such payment.</p>", "text/html")
                return
            if payment.status in _FINISHED:
                text = f"<p>This payment is finished: {html.escape(payment.status)}.</p>"
            else:
                action = html.escape(f"/pay/{payment.payment_id}")
                text = (
                    f'<form method="post" action="{action}">'
                    '<button name="action" value="pay">Pay</button>'
                    '<button name="action" value="cancel">Cancel</button>'
                    "</form>"
                )
            page = (
                "<!doctype html><html lang=en><meta charset=utf-8><title>Pay</title>"
                f"<h1>{html.escape(payment.description)}</h1>"
                f'<p>Reference {html.escape(payment.reference)}. Amount: <strong id="amount">'
                f"{payment.amount // 100}.{payment.amount % 100:02d}</strong></p>{text}</html>"
            )
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def _page_submit(self, payment_id: str) -> None:
            raw = self._body()
            if raw is None:
                return
            action = parse_qs(raw.decode("utf-8", "replace")).get("action", [""])[0]
            outcome = {"pay": "success", "cancel": "cancelled"}.get(action)
            if outcome is None:
                self._send_json(400, _error("action", "action must be pay or cancel"))
                return
            with provider._lock:
                payment = provider.payments.get(payment_id)
                finished = payment is not None and payment.status in _FINISHED
                if payment is not None and not finished:
                    payment.status = outcome
            if payment is None:
                self._send_json(404, {"code": "P0200", "description": "Not found"})
            elif finished:
                self._send_json(400, _error(None, "This payment is already finished"))
            else:
                self._send(303, b"", "text/plain", {"Location": payment.return_url})

    return Handler


@contextmanager
def running_pay_provider() -> Iterator[LoopbackPayProvider]:
    provider = LoopbackPayProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="loopback-pay", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    provider = LoopbackPayProvider()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"GOV21_PAY_URL={provider.url}\nGOV21_PAY_KEY={provider.key}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

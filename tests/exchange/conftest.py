"""The ``exchange`` fixture (the demo nation's exchange) lives in tests/conftest.py; here, the
gateway's information-system listener, served on loopback in the test process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test.testcases import QuietWSGIRequestHandler
from pytest_django.live_server_helper import LiveServer


class _RawUriHandler(QuietWSGIRequestHandler):
    """Hands the application the request target as sent (``REQUEST_URI``), as gunicorn
    (``RAW_URI``), uWSGI and mod_wsgi do, so encoded characters reach the gateway undecoded."""

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ["REQUEST_URI"] = self.path
        return environ


@pytest.fixture
def client_listener(transactional_db: None) -> Iterator[str]:
    """``gov21.wsgi:clients`` (what ``gov21 exchange node serve --listen`` serves) on a free
    loopback port, sharing the test's database as Django's live server does; its base URL. The test
    commits what it writes (on PostgreSQL the listener's thread has a connection of its own)."""
    from django.test.testcases import LiveServerThread

    from gov21.wsgi import clients

    class Thread(LiveServerThread):
        def _create_server(self, connections_override: Any = None) -> Any:
            return self.server_class(
                (self.host, self.port),
                _RawUriHandler,
                allow_reuse_address=False,
                connections_override=connections_override,
            )

    server = LiveServer("127.0.0.1:0", start=False)
    thread = Thread("127.0.0.1", lambda _django: clients, connections_override=server.thread.connections_override)
    thread.daemon = True
    server.thread = thread
    server.start()
    yield server.url
    server.stop()

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from gov21.core import tsa


class Command(BaseCommand):
    help = (
        "Run gov21's RFC 3161 timestamping authority (application/timestamp-query over HTTP). Point "
        "GOV21_TSA_URL at it and GOV21_TSA_CERT at the certificate it prints; run it on another machine "
        "than the nodes whose logs it countersigns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["serve"])
        parser.add_argument("--dir", type=Path, default=None, help="Key and certificate (default: DATA_DIR/tsa).")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=3161)

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"] or Path(settings.DATA_DIR) / "tsa"
        authority = tsa.Authority.load(directory)
        server = tsa.serve(authority, host=options["host"], port=options["port"])
        port = server.server_address[1]
        where = f"http://{options['host']}:{port}/"
        self.stdout.write(f"Timestamping authority at {where} (certificate {directory / 'tsa.pem'})")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()

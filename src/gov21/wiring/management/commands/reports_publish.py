from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gov21.wiring.publish import concerns_publish, participation_publish


class Command(BaseCommand):
    help = (
        "Publish the reporting desk's numbers (reported problems, time to close) and the results of closed "
        "participation processes on the data portal."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for version in [*concerns_publish(), participation_publish()]:
            state = "new version" if version.created else "unchanged"
            self.stdout.write(f"{version.dataset}: version {version.version} ({state})")

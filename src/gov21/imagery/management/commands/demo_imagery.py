"""``gov21 demo_imagery``: draw the demo country before and after a hurricane and catalogue both
scenes in the collection ``demo-scenes`` (offline; the same scenes for the same seed, so running it
again finds them already catalogued)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.imagery.services import imagery_add
from gov21.imagery.synthetic import PIXEL_METRES, POST_DATETIME, PRE_DATETIME, demo_scenes

COLLECTION = "demo-scenes"
TITLES = {"pre-hurricane": "The islands before the hurricane", "post-hurricane": "The islands after the hurricane"}


class Command(BaseCommand):
    help = "Generate synthetic pre- and post-hurricane scenes of the demo country and catalogue them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=21)
        parser.add_argument("--pixel", type=float, default=PIXEL_METRES, help="Pixel size in metres (default 30).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 5 <= options["pixel"] <= 1000:
            raise CommandError("--pixel must be between 5 and 1000 metres.")
        scenes = demo_scenes(seed=options["seed"], pixel=options["pixel"])
        with tempfile.TemporaryDirectory(prefix="gov21-demo-imagery-") as work:
            for scene, moment in zip(scenes, (PRE_DATETIME, POST_DATETIME), strict=True):
                path = Path(work) / f"{scene.name}.tif"
                scene.write(path)
                try:
                    added = imagery_add(
                        path=path,
                        collection_id=COLLECTION,
                        taken=moment,
                        item_id=scene.name
                        if options["pixel"] == PIXEL_METRES
                        else f"{scene.name}-{options['pixel']:g}m",
                        title=TITLES[scene.name],
                        profile="jpeg",
                        properties={"gov21:synthetic": True, "gov21:seed": options["seed"]},
                        collection_title="Demo scenes",
                        collection_description=(
                            "Synthetic imagery of the demo islands before and after a hurricane, drawn from the"
                            " country's boundaries and settlements (not a real observation)."
                        ),
                        license="CC0-1.0",
                    )
                except DomainError as error:
                    raise CommandError(error.detail) from error
                state = "added" if added.created else "already catalogued"
                self.stdout.write(f"{scene.name}: {state} at /stac/collections/{COLLECTION}/items/{added.item.item_id}")

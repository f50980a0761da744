"""``gov21 imagery add FILE --collection C --datetime T``: catalogue a raster file as a STAC item.
``gov21 imagery list``: the catalogue's collections and items. Adding is for the operators of the
deployment (who run its commands); reading the catalogue is public (``/stac/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.imagery import raster
from gov21.imagery.selectors import Search, collections_all, items_search
from gov21.imagery.services import imagery_add


class Command(BaseCommand):
    help = "Add imagery (GeoTIFF or any raster GDAL reads) to the STAC catalogue, or list it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Convert a raster to a Cloud-Optimized GeoTIFF and catalogue it.")
        add.add_argument("file", type=Path)
        add.add_argument("--collection", required=True, help="The collection's id (created if new).")
        add.add_argument(
            "--datetime", required=True, help="When it was taken: 2026-09-02T14:30:00Z, a day, or start/end."
        )
        add.add_argument("--id", default=None, help="The item's id (default: from the file's name).")
        add.add_argument("--title", default="", help="The item's title.")
        add.add_argument("--collection-title", default="", help="A new collection's title.")
        add.add_argument("--collection-description", default="", help="A new collection's description.")
        add.add_argument("--license", default="other", help="A new collection's licence (SPDX id).")
        add.add_argument("--profile", choices=raster.COG_PROFILES, default="deflate", help="COG compression.")
        sub.add_parser("list", help="List the collections and their items.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for collection in collections_all():
                found = items_search(Search(limit=100000, collections=(collection.collection_id,)))
                self.stdout.write(f"{collection.collection_id}: {collection.title} ({found.matched} items)")
                for item in found.items:
                    self.stdout.write(f"  {item.item_id}  {item.start_at:%Y-%m-%d %H:%M}")
            return
        try:
            added = imagery_add(
                path=options["file"],
                collection_id=options["collection"],
                taken=options["datetime"],
                item_id=options["id"],
                title=options["title"],
                profile=options["profile"],
                collection_title=options["collection_title"],
                collection_description=options["collection_description"],
                license=options["license"],
            )
        except DomainError as error:
            raise CommandError(error.detail) from error
        item = added.item
        where = f"/stac/collections/{item.collection.collection_id}/items/{item.item_id}"
        if added.created:
            self.stdout.write(f"Added {item.item_id} to {item.collection.collection_id}: {where}")
        else:
            self.stdout.write(f"{options['file']} is already catalogued as {item.item_id}: {where}")

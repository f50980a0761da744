"""The spatial index behind the item search's box (decision 0052): an R*Tree on SQLite, PostGIS on
PostgreSQL."""

from django.db import migrations

from gov21.core.spatial import SpatialIndex


class Migration(migrations.Migration):
    dependencies = [("imagery", "0001_initial")]

    operations = [SpatialIndex("imageryitem")]

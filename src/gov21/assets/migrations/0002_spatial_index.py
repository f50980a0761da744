"""The spatial index behind the assets' and disasters' box queries (decision 0052): an R*Tree on
SQLite, PostGIS on PostgreSQL."""

from django.db import migrations

from gov21.core.spatial import SpatialIndex


class Migration(migrations.Migration):
    dependencies = [("assets", "0001_initial")]

    operations = [SpatialIndex("asset"), SpatialIndex("disasterevent")]

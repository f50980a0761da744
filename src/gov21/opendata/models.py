"""The data portal's catalogue after CKAN's model: organizations (the agencies of the exchange
directory), groups (themes), tags, datasets and their resources, and the numbered, immutable versions
of a dataset's table. The rows of tables live in the DuckDB datastore (``datastore.py``), not here."""

from __future__ import annotations

import uuid

from django.db import models


class Organization(models.Model):
    """A publisher: an agency of the exchange directory, named in CKAN's way by its lower-cased code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    member_code = models.CharField(max_length=50, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    created = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """A theme that gathers datasets of any publisher (health, population, land...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    created = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """A CKAN package. ``state`` is CKAN's: a deleted dataset stays, hidden from lists and search."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    notes = models.TextField(blank=True, default="")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="datasets")
    groups = models.ManyToManyField(Group, related_name="datasets", blank=True)
    tags = models.ManyToManyField(Tag, related_name="datasets", blank=True)
    license_id = models.CharField(max_length=50, default="CC-BY-4.0")
    frequency = models.CharField(max_length=20, default="irregular")
    spatial = models.JSONField(default=list, blank=True)
    temporal_start = models.DateField(null=True, blank=True)
    temporal_end = models.DateField(null=True, blank=True)
    contact_name = models.CharField(max_length=200, blank=True, default="")
    contact_email = models.CharField(max_length=200, blank=True, default="")
    version = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, default="active")
    # Where a harvested dataset came from (empty for datasets published here).
    # Name, title, description and tags in lower case: what a search's words are looked for in.
    search_text = models.TextField(blank=True, default="")
    harvest_source = models.CharField(max_length=500, blank=True, default="")
    harvest_identifier = models.CharField(max_length=500, blank=True, default="")
    # The source it was harvested from, the source's own identifier of it (a CKAN id, a DCAT
    # dct:identifier or the dataset's URI), when it was last harvested and the digest of what the
    # source said then (an unchanged dataset is not written again).
    harvested_from = models.ForeignKey(
        "HarvestSource", on_delete=models.PROTECT, related_name="datasets", null=True, blank=True
    )
    harvest_guid = models.CharField(max_length=500, blank=True, default="")
    harvested = models.DateTimeField(null=True, blank=True)
    harvest_digest = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField()
    modified = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "modified"], name="opendata_dataset_state_mod")]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    """A distribution: a link, an uploaded file (kept by its SHA-256) or a datastore table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    format = models.CharField(max_length=50, blank=True, default="")
    url = models.CharField(max_length=1000, blank=True, default="")
    url_type = models.CharField(max_length=20, blank=True, default="")
    mimetype = models.CharField(max_length=100, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    datastore_active = models.BooleanField(default=False)
    # The datastore's columns: [{"id": name, "type": type, "info": {"label": title}}], CKAN's "fields".
    fields = models.JSONField(default=list, blank=True)
    # The columns that name a row of a table created through the API (for ``datastore_upsert``).
    primary_key = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, default="active")
    created = models.DateTimeField()
    modified = models.DateTimeField()

    def __str__(self) -> str:
        return str(self.id)


class Version(models.Model):
    """One immutable release of a dataset's table: its number, change note, the DuckDB table that
    keeps its rows for good, and the diff against the release before it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="versions")
    change_note = models.TextField()
    table = models.CharField(max_length=100)
    columns = models.JSONField()
    row_count = models.PositiveIntegerField()
    rows_sha256 = models.CharField(max_length=64)
    # {"added": n, "removed": n, "changed": n, "key": [columns], "examples": {...}}
    diff = models.JSONField()
    created = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="opendata_version_unique")]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.number}"


class HarvestSource(models.Model):
    """Another portal whose catalogue this one copies on a schedule: a CKAN (its Action API) or a DCAT
    catalogue (Turtle, JSON-LD or RDF/XML). Harvested datasets are filed under ``organization``."""

    KINDS = (("ckan", "CKAN"), ("dcat", "DCAT"))
    # How often a source is harvested, in hours (0: only when someone asks).
    FREQUENCIES = (("manual", 0), ("hourly", 1), ("daily", 24), ("weekly", 168))

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=1000)
    kind = models.CharField(max_length=10, choices=KINDS)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="harvest_sources")
    frequency = models.CharField(max_length=10, default="daily")
    active = models.BooleanField(default=True)
    next_run = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    created_by = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class HarvestJob(models.Model):
    """One run of a harvest source: when, what came of it, and its log (append-only)."""

    source = models.ForeignKey(HarvestSource, on_delete=models.PROTECT, related_name="jobs")
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    # running, finished (every dataset taken), partial (some datasets refused), failed (nothing changed)
    status = models.CharField(max_length=10, default="running")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # [{"level": "error"|"info", "identifier": ..., "message": ...}]
    log = models.JSONField(default=list)
    started_by = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["source", "-started"], name="opendata_harvestjob_recent")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.started:%Y-%m-%d %H:%M}"


class CatalogueVersion(models.Model):
    """One row whose counter goes up in the transaction of every change a search could see, so
    that each process's in-memory search index knows, by one read, whether it is current. The
    generation is drawn when the row is made, so a database emptied and filled again (a restore, a
    test) never passes for the one an index was built from."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    counter = models.BigIntegerField(default=0)
    generation = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.counter)


class CatalogueChange(models.Model):
    """Which dataset a raise of ``CatalogueVersion.counter`` was about, written in the same
    transaction, so that a process's index re-reads only those datasets (decision 0077). No dataset
    means "anything may have changed": the index is built again. Rows far behind the counter are
    pruned; an index older than the oldest kept is built again too."""

    id = models.BigAutoField(primary_key=True)
    counter = models.BigIntegerField(db_index=True)
    dataset = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.counter} {self.dataset}"

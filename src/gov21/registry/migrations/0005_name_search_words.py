"""Name search finds the parts of a hyphenated name on both engines, and PostgreSQL keeps each
person's search words in a stored column (decision 0032).

SQLite: FTS5's tokenizer no longer keeps '-' inside words, so 'Jean-Baptiste' is the words 'jean' and
'baptiste', as PostgreSQL's parser also gives them; the index is rebuilt from ``name_norm``.
PostgreSQL: ``name_tsv``, a generated ``tsvector`` of ``name_norm``, with a GIN index in place of the
expression index of 0002, so that a row is never parsed again to answer a search (a plan that filters
rows in id order used to parse every name it passed), and the table's statistics are refreshed."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FTS_TABLE = (
    "CREATE VIRTUAL TABLE registry_person_fts USING fts5(name_norm, content='registry_person', "
    "content_rowid='id', tokenize='unicode61', prefix='2 3 4')"
)
# The triggers that keep the index in step with ``registry_person.name_norm``.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER registry_person_fts_ai AFTER INSERT ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END",
    "CREATE TRIGGER registry_person_fts_ad AFTER DELETE ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, name_norm) "
    "VALUES('delete', old.id, old.name_norm); END",
    "CREATE TRIGGER registry_person_fts_au AFTER UPDATE OF name_norm ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, name_norm) VALUES('delete', old.id, old.name_norm); "
    "INSERT INTO registry_person_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END",
]
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS registry_person_fts_au",
    "DROP TRIGGER IF EXISTS registry_person_fts_ad",
    "DROP TRIGGER IF EXISTS registry_person_fts_ai",
]
SQLITE_REBUILD = "INSERT INTO registry_person_fts(registry_person_fts) VALUES('rebuild')"
SQLITE_FORWARD = [
    *SQLITE_DROP_TRIGGERS,
    "DROP TABLE IF EXISTS registry_person_fts",
    FTS_TABLE,
    *SQLITE_TRIGGERS,
    SQLITE_REBUILD,
]

PG_FORWARD = [
    "ALTER TABLE registry_person ADD COLUMN name_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', name_norm)) STORED",
    "CREATE INDEX registry_person_name_tsv ON registry_person USING gin (name_tsv)",
    "DROP INDEX IF EXISTS registry_person_name_fts",
    "ANALYZE registry_person",
]
PG_BACKWARD = [
    "CREATE INDEX registry_person_name_fts ON registry_person USING gin (to_tsvector('simple', name_norm))",
    "ALTER TABLE registry_person DROP COLUMN name_tsv",
]


def _sqlite_backward() -> list[str]:
    from importlib import import_module

    before = import_module("gov21.registry.migrations.0002_name_search")
    return [*before.SQLITE_BACKWARD, *before.SQLITE_FORWARD, SQLITE_REBUILD]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = SQLITE_FORWARD if schema_editor.connection.vendor == "sqlite" else PG_FORWARD
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = _sqlite_backward() if schema_editor.connection.vendor == "sqlite" else PG_BACKWARD
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_person_assertions")]
    operations = [migrations.RunPython(forward, backward)]

"""Name search index: FTS5 on SQLite, a GIN full-text index on PostgreSQL. Kept in step with
``registry_person.name_norm`` by triggers (SQLite) or by the expression index itself (PostgreSQL)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE registry_person_fts USING fts5(name_norm, content='registry_person', "
    "content_rowid='id', tokenize=\"unicode61 tokenchars '-'\", prefix='2 3 4')",
    "CREATE TRIGGER registry_person_fts_ai AFTER INSERT ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END",
    "CREATE TRIGGER registry_person_fts_ad AFTER DELETE ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, name_norm) "
    "VALUES('delete', old.id, old.name_norm); END",
    "CREATE TRIGGER registry_person_fts_au AFTER UPDATE OF name_norm ON registry_person BEGIN "
    "INSERT INTO registry_person_fts(registry_person_fts, rowid, name_norm) VALUES('delete', old.id, old.name_norm); "
    "INSERT INTO registry_person_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_person_fts_au",
    "DROP TRIGGER IF EXISTS registry_person_fts_ad",
    "DROP TRIGGER IF EXISTS registry_person_fts_ai",
    "DROP TABLE IF EXISTS registry_person_fts",
]
PG_FORWARD = [
    "CREATE INDEX registry_person_name_fts ON registry_person USING gin (to_tsvector('simple', name_norm))",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS registry_person_name_fts"]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = SQLITE_FORWARD if schema_editor.connection.vendor == "sqlite" else PG_FORWARD
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = SQLITE_BACKWARD if schema_editor.connection.vendor == "sqlite" else PG_BACKWARD
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]

"""The living population counted by parish, sex and month of birth, kept by the database in the
statement that writes a person (decision 0081), with the indexes the numbers service reads by:
persons by date of birth and of death, and events by kind and date.

The counts are kept by triggers, so every path that writes ``registry_person`` (the registry's
services, the demo nation's bulk loader, a restore) keeps them. The bulk loader drops them for its
load and counts afresh after it (``COUNT_REBUILD``), as it does the name search's."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# A person counts when alive (no date of death) with a parish of address.
_SQLITE_ADD = (
    "INSERT INTO registry_populationmonth (parish, sex, birth_month, persons) "
    "SELECT NEW.address_parish, NEW.sex, substr(NEW.birth_date, 1, 7), 1 "
    "WHERE NEW.death_date IS NULL AND NEW.address_parish <> '' "
    "ON CONFLICT (parish, sex, birth_month) DO UPDATE SET persons = persons + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE registry_populationmonth SET persons = persons - 1 "
    "WHERE OLD.death_date IS NULL AND OLD.address_parish <> '' AND parish = OLD.address_parish "
    "AND sex = OLD.sex AND birth_month = substr(OLD.birth_date, 1, 7);"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER registry_person_count_ai AFTER INSERT ON registry_person BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER registry_person_count_ad AFTER DELETE ON registry_person BEGIN {_SQLITE_REMOVE} END",
    "CREATE TRIGGER registry_person_count_au AFTER UPDATE OF address_parish, sex, birth_date, death_date "
    f"ON registry_person BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
]
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS registry_person_count_au",
    "DROP TRIGGER IF EXISTS registry_person_count_ad",
    "DROP TRIGGER IF EXISTS registry_person_count_ai",
]
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_person_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.death_date IS NULL AND OLD.address_parish <> '' THEN
        UPDATE registry_populationmonth SET persons = persons - 1
        WHERE parish = OLD.address_parish AND sex = OLD.sex AND birth_month = to_char(OLD.birth_date, 'YYYY-MM');
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.death_date IS NULL AND NEW.address_parish <> '' THEN
        INSERT INTO registry_populationmonth (parish, sex, birth_month, persons)
        VALUES (NEW.address_parish, NEW.sex, to_char(NEW.birth_date, 'YYYY-MM'), 1)
        ON CONFLICT (parish, sex, birth_month) DO UPDATE SET persons = registry_populationmonth.persons + 1;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGER = (
    "CREATE TRIGGER registry_person_count AFTER INSERT OR DELETE OR UPDATE OF address_parish, sex, "
    "birth_date, death_date ON registry_person FOR EACH ROW EXECUTE FUNCTION registry_person_count()"
)
PG_FORWARD = [PG_FUNCTION, PG_TRIGGER]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_person_count ON registry_person",
    "DROP FUNCTION IF EXISTS registry_person_count()",
]
# The counts made afresh from every person (after a bulk load, and once here).
_MONTH = {"sqlite": "substr(birth_date, 1, 7)", "postgresql": "to_char(birth_date, 'YYYY-MM')"}


def count_rebuild(vendor: str) -> list[str]:
    return [
        "DELETE FROM registry_populationmonth",
        f"INSERT INTO registry_populationmonth (parish, sex, birth_month, persons) SELECT address_parish, sex, "  # noqa: S608
        f"{_MONTH[vendor]}, COUNT(*) FROM registry_person WHERE death_date IS NULL AND address_parish <> '' "
        f"GROUP BY address_parish, sex, {_MONTH[vendor]}",
    ]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in [*(SQLITE_TRIGGERS if vendor == "sqlite" else PG_FORWARD), *count_rebuild(vendor)]:
        schema_editor.execute(sql)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in SQLITE_DROP_TRIGGERS if schema_editor.connection.vendor == "sqlite" else PG_BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_person_address_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="PopulationMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("parish", models.CharField(max_length=12)),
                ("sex", models.CharField(max_length=1)),
                ("birth_month", models.CharField(max_length=7)),
                ("persons", models.IntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name="lifeevent",
            index=models.Index(fields=["kind", "event_date"], name="event_kind_date_idx"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["birth_date"], name="person_birth_idx"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                fields=["death_date"], name="person_death_idx", condition=models.Q(death_date__isnull=False)
            ),
        ),
        migrations.AddConstraint(
            model_name="populationmonth",
            constraint=models.UniqueConstraint(fields=("parish", "sex", "birth_month"), name="population_month_key"),
        ),
        migrations.RunPython(forward, backward),
    ]

"""The ``gov21`` command: Django's management commands with gov21's settings, so ``gov21 up``,
``gov21 seed``, ``gov21 token create`` and ``gov21 migrate`` all work from one entry point. A command
that meets a database without gov21's tables says in one line to run ``gov21 migrate``."""

from __future__ import annotations

import os
import sys

from django.db import DatabaseError


def main(argv: list[str] | None = None) -> None:
    # Files this command and its children create are the owner's alone (settings set it too, for
    # gunicorn's workers); set first, before anything can create a file.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["gov21", *argv])
    # Django's help lists commands as "manage.py"; name ours.
    args[0] = "gov21"
    try:
        execute_from_command_line(args)
    except DatabaseError as error:
        hint = None if args[1:2] == ["migrate"] else unmigrated_hint(error)
        if hint is None:
            raise
        sys.stderr.write(hint + "\n")
        raise SystemExit(1) from None


def unmigrated_hint(error: DatabaseError) -> str | None:
    """One line telling what to run when ``error`` came from a database that still has migrations to
    apply (a new data directory, or an upgrade not yet migrated); None when it did not."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.close()
        executor = MigrationExecutor(connection)
        pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return None
    if not pending:
        return None
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return (
        f"gov21: {first_line}: the database {connection.settings_dict['NAME']} has {pending} migrations"
        " not applied yet; run `gov21 migrate` first, then this command again."
    )


if __name__ == "__main__":
    main()

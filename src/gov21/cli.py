"""The ``gov21`` command: Django's management commands with gov21's settings, so ``gov21 up``,
``gov21 seed``, ``gov21 token create`` and ``gov21 migrate`` all work from one entry point."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    # Files this command and its children create are the owner's alone (settings set it too, for
    # gunicorn's workers); set first, before anything can create a file.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["gov21", *argv])
    # Django's help lists commands as "manage.py"; name ours.
    args[0] = "gov21"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()

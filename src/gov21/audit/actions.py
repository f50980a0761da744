"""What each kind of access means to the person it concerns.

An app that records accesses (``access_record(action=...)``) declares, next to the code that
records them, a sentence for each action it uses, marked for translation; "who used my data"
shows the sentence in the reader's language instead of the action's code. An action nobody
declared is shown by its code, so a forgotten declaration is visible rather than hidden."""

from __future__ import annotations

from django.utils.functional import Promise

_LABELS: dict[str, str | Promise] = {}


def access_action_declare(code: str, label: str | Promise) -> str:
    """Declare the sentence for ``code`` and return the code, so the declaration can stand where
    the code is used: ``READ = access_action_declare("person.read", _("Read your record"))``."""
    # Not compared with an earlier declaration: that would evaluate a lazy translation while the
    # modules are imported, before Django's translations are ready.
    _LABELS[code] = label
    return code


def access_action_label(code: str) -> str:
    """The sentence declared for ``code`` in the active language, or the code itself."""
    label = _LABELS.get(code)
    return str(label) if label is not None else code

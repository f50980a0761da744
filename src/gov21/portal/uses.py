"""Who used my data, in words: each use of a person's data is shown as who (the agency, and the
official when there is one), what of theirs (a sentence declared where the data is served or the
access recorded), and why (the purpose), in the person's language. The identifiers that prove it
(client, service, request, chain record) stay on the page behind a "Technical details" disclosure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from gov21.audit.contracts import AccessSeen
from gov21.exchange.contracts import DataUseSeen, agency_name

# How the registry names a caller that came through the exchange: "exchange:<client>",
# optionally followed by " (<official>)" or " for <person>".
_EXCHANGE_ACTOR = re.compile(r"exchange:(?P<client>[^ ]+)(?: \((?P<official>.*)\)| for (?P<for>.+))?")
# A purpose the platform declares, followed by what it is about: "<sentence> (<reference>)".
_ABOUT = re.compile(r"(?P<said>.+) \((?P<ref>[^()]+)\)")
# A person signed in to a relying party: the identity agency reads for the service, not an official.
_SIGN_IN = "oidc:"


@dataclass(frozen=True)
class UseShown:
    """One use as the person reads it, and the raw identifiers behind it."""

    at: datetime
    who: str
    official: str
    what: str
    why: str
    details: list[tuple[str, str]]


def purpose_words(purpose: str, applications: dict[str, str] | None = None) -> str:
    """The purpose in the reader's language where the platform wrote it ("<agency>: <purpose>"
    as the identity agency records a sign-in, or a sentence of its own); the reference of one of
    the person's own applications (``applications``: reference to title) as that application;
    anyone else's as written."""
    if not purpose:
        return _("No purpose was given")
    if applications and purpose in applications:
        return _("Your application: %(title)s (%(reference)s)") % {
            "title": applications[purpose],
            "reference": purpose,
        }
    if ": " in purpose and _(purpose) == purpose:
        agency, said = purpose.split(": ", 1)
        return f"{_(agency)}: {_(said)}"
    about = _ABOUT.fullmatch(purpose)
    if about is not None and _(purpose) == purpose:
        return f"{_(about['said'])} ({about['ref']})"
    return _(purpose)


def official_words(user_id: str) -> str:
    if not user_id:
        return _("No official: the agency's system, automatically")
    if user_id.startswith(_SIGN_IN):
        return _("No official: you signed in to a service")
    return _("Official %(name)s") % {"name": _(user_id)}


def exchange_use_shown(use: DataUseSeen, applications: dict[str, str] | None = None) -> UseShown:
    return UseShown(
        at=use["at"],
        who=use["agency"],
        official=official_words(use["user_id"]),
        what=_("%(what)s, from the %(provider)s") % {"what": use["seen_as"], "provider": use["provider"]},
        why=purpose_words(use["purpose"], applications),
        details=[
            (_("Information system that asked"), use["client"]),
            (_("Service"), use["service"]),
            (_("Request"), f"{use['method']} {use['path']}"),
            (_("User given by the system"), use["user_id"] or "–"),
            (_("Purpose as recorded"), use["purpose"] or "–"),
            (_("Message"), use["message_id"]),
            (_("Signed record"), f"{use['chain']} #{use['seq']}"),
        ],
    )


def access_shown(access: AccessSeen) -> UseShown:
    """One entry of the access log: the registry's own officers, and systems through the exchange."""
    actor = access["actor"]
    found = _EXCHANGE_ACTOR.fullmatch(actor)
    if found is not None:
        who = agency_name(found["client"])
        official = official_words(found["official"] or "")
    elif access["actor_kind"] == "staff":
        who = _("An official of the agency that holds the record")
        # A name the platform gave an officer of its own (the demo counter) is in the catalogue.
        official = _("Official %(name)s") % {"name": _(actor) if actor else actor}
    else:
        who = _("The platform itself")
        official = _("No official: the agency's system, automatically")
    return UseShown(
        at=access["at"],
        who=who,
        official=official,
        what=access["action_label"],
        why=purpose_words(access["purpose"]),
        details=[
            (_("Recorded as"), actor),
            (_("Action"), access["action"]),
            (_("Purpose as recorded"), access["purpose"] or "–"),
        ],
    )

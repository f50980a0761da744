"""What the one-stop shop's back-office pages accept: the queue's filters, the purpose of opening a
case, and the fields of each action on a case and of a service definition's edit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import FlagField, Form, TextField
from gov21.onestop.models import Application

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_DEFINITION_BYTES = 200_000
# A citizen's draft is not a case: the queue's filter offers every other state.
FILTER_STATES = [s for s in Application.State if s != Application.State.DRAFT]


def _one_of(*values: str, message: StrOrPromise) -> forms.ChoiceField:
    """A choice between buttons, with one message whether none or an unknown one was sent."""
    return forms.ChoiceField(
        choices=[(v, v) for v in values], error_messages={"required": message, "invalid_choice": message}
    )


class QueueFilter(Form):
    state = forms.ChoiceField(required=False, choices=[("", ""), *((s.value, s.label) for s in FILTER_STATES)])
    mine = forms.BooleanField(required=False)
    overdue = forms.BooleanField(required=False)
    q = TextField(max_length=40)


class PurposeForm(Form):
    """Why a case is opened, recorded with the view in the access log."""

    purpose = TextField(max_length=200)


class AssignForm(Form):
    """To whom a case is assigned: the officer asking ("me"), or the user name typed."""

    me = FlagField(expected="1")
    to = TextField(max_length=150)


class RequestInfoForm(Form):
    message = TextField(max_length=2000)


class DecideForm(Form):
    decision = _one_of("approve", "refuse", message=_("Choose to approve or to refuse."))
    reason = TextField(max_length=2000)


class ReviewForm(Form):
    outcome = _one_of("uphold", "overturn", message=_("Choose to uphold or to overturn the decision."))
    note = TextField(max_length=2000)


class DefinitionForm(Form):
    """A service definition as YAML text, at most ``MAX_DEFINITION_BYTES`` once encoded; what it says
    is checked by the definitions module."""

    # Administrators read the definitions in English, as they are written.
    REFUSED = "The definition is too long or holds characters we refuse."

    definition = forms.CharField(required=False, strip=False, max_length=MAX_DEFINITION_BYTES)

    def clean_definition(self) -> str:
        source = str(self.cleaned_data["definition"])
        if len(source.encode()) > MAX_DEFINITION_BYTES:
            raise ValidationError(self.REFUSED, code="invalid_definition")
        return source


class ReconsiderForm(Form):
    """The decision on an applicant's request for a review of a refusal."""

    outcome = _one_of("uphold", "overturn", message=_("Choose to uphold or to overturn the refusal."))
    reason = TextField(max_length=2000)

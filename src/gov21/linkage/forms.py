"""The forms of the record linkage's office pages, on the one form base (``core.forms``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form, WholeNumberField

VERDICTS = (("accept", _("Same person")), ("reject", _("Different people")), ("skip", _("Skip for now")))


class DecisionForm(Form):
    verdict = forms.ChoiceField(
        choices=VERDICTS,
        label=_("Your decision"),
        error_messages={
            "required": _("Choose same person, different people or skip."),
            "invalid_choice": _("Choose same person, different people or skip."),
        },
    )
    uin = forms.RegexField(
        regex=r"^\d{10}$",
        widget=forms.HiddenInput,
        label=_("UIN"),
        error_messages={
            "required": _("The page is out of date; open the record again."),
            "invalid": _("The page is out of date; open the record again."),
        },
    )


class ReverseForm(Form):
    decision = WholeNumberField(label=_("Decision"))

"""The forms of e-participation pages, on the kernel's hostile-input form base."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import FlagField, Form, TextField


class BallotForm(Form):
    projects = forms.MultipleChoiceField(
        label=_("Projects"), error_messages={"required": _("Choose at least one project.")}
    )

    def __init__(self, *args: object, codes: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = [(code, code) for code in codes]  # type: ignore[attr-defined]
        self.fields["projects"].error_messages["invalid_choice"] = _("Choose only projects of this budget.")


class CommentForm(Form):
    body = TextField(
        label=_("Your comment"),
        max_length=5000,
        required=True,
        error_messages={"required": _("Write something first.")},
    )
    section = TextField(label=_("Section"), max_length=60, required=False)
    parent = forms.IntegerField(required=False, min_value=1)


class StatementForm(Form):
    text = TextField(
        label=_("Your statement"),
        max_length=280,
        required=True,
        error_messages={"required": _("Write something first.")},
    )


class StatementVoteForm(Form):
    view = forms.TypedChoiceField(
        choices=[("1", _("Agree")), ("-1", _("Disagree")), ("0", _("Pass"))],
        coerce=int,
        error_messages={
            "required": _("Choose agree, disagree or pass."),
            "invalid_choice": _("Choose agree, disagree or pass."),
        },
    )


class ReasonForm(Form):
    reason = TextField(
        label=_("Reason"), max_length=500, required=True, error_messages={"required": _("Give a reason.")}
    )


class ReceiptForm(Form):
    receipt = TextField(label=_("Receipt code"), max_length=64, required=True)


class AnswerForm(Form):
    answer = TextField(
        label=_("Answer"), max_length=5000, required=True, error_messages={"required": _("Write the answer.")}
    )


class ModerateForm(ReasonForm):
    block = FlagField(required=False)


class AmendmentForm(Form):
    text = TextField(
        label=_("Your text for this section"),
        max_length=5000,
        required=True,
        error_messages={"required": _("Write the text you suggest.")},
    )


class DecisionForm(ReasonForm):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("reject", _("Reject"))],
        error_messages={"required": _("Accept or reject."), "invalid_choice": _("Accept or reject.")},
    )


class ProposalForm(Form):
    title = TextField(
        label=_("Title of your proposal"),
        max_length=150,
        required=True,
        error_messages={"required": _("Give your proposal a title.")},
    )
    body = TextField(
        label=_("What you propose, and why"),
        max_length=5000,
        required=True,
        error_messages={"required": _("Describe your proposal.")},
    )


class ProcessForm(Form):
    """A new process, from the office. Projects are one per line, "code; title; cost"; sections of a
    consultation's draft start with a line "## heading" followed by their text."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("petition", _("Petition")),
            ("budget", _("Participatory budget")),
            ("consultation", _("Consultation")),
            ("proposals", _("Citizens' proposals")),
        ],
        error_messages={
            "required": _("Choose the kind of process."),
            "invalid_choice": _("Choose the kind of process."),
        },
    )
    slug = forms.SlugField(
        label=_("Address"),
        max_length=60,
        error_messages={
            "required": _("Give the process an address."),
            "invalid": _("Use only lower-case letters, digits and hyphens in the address."),
        },
    )
    title = TextField(label=_("Title"), max_length=200, required=True, error_messages={"required": _("Give a title.")})
    summary = TextField(label=_("Summary"), max_length=5000)
    agency = TextField(
        label=_("Agency (exchange member code)"),
        max_length=20,
        required=True,
        error_messages={"required": _("Name the agency that runs the process.")},
    )
    parish = TextField(label=_("Parish code (empty for the whole country)"), max_length=10)
    opens_on = forms.DateField(
        label=_("Opens on"), error_messages={"required": _("Give the day it opens."), "invalid": _("Give a date.")}
    )
    closes_on = forms.DateField(
        label=_("Closes on"), error_messages={"required": _("Give the day it closes."), "invalid": _("Give a date.")}
    )
    threshold = forms.IntegerField(
        label=_("Threshold"), required=False, min_value=0, error_messages={"invalid": _("Give a whole number.")}
    )
    support_days = forms.IntegerField(
        label=_("Days a proposal collects supports"),
        required=False,
        min_value=1,
        max_value=365,
        error_messages={"invalid": _("Give a whole number.")},
    )
    budget = TextField(label=_("Budget"), max_length=20)
    projects = TextField(label=_("Projects, one per line: code; title; cost"), max_length=20_000)
    sections = TextField(label=_("Sections of the draft: a line ## heading, then its text"), max_length=100_000)


class PhaseForm(Form):
    phase = forms.ChoiceField(
        label=_("Phase"),
        choices=[
            ("information", _("Information")),
            ("consultation", _("Consultation")),
            ("proposals", _("Proposals")),
            ("voting", _("Voting")),
            ("results", _("Results")),
            ("follow-up", _("Follow-up")),
        ],
        error_messages={"required": _("Choose a phase."), "invalid_choice": _("Choose a phase.")},
    )

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

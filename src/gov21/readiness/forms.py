from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form, TextField, WholeNumberField
from gov21.readiness.reference import groups


class ReportForm(Form):
    """Which survey year and which group of countries the report shows."""

    year = forms.TypedChoiceField(
        coerce=int,
        label=_("Survey year"),
        error_messages={"invalid_choice": _("Choose one of the survey years listed.")},
    )
    group = forms.ChoiceField(
        label=_("Countries"),
        error_messages={"invalid_choice": _("Choose one of the groups of countries listed.")},
    )

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field = self.fields["year"]
        group_field = self.fields["group"]
        assert isinstance(year_field, forms.TypedChoiceField) and isinstance(group_field, forms.ChoiceField)
        year_field.choices = [(y, str(y)) for y in reversed(years)]
        group_field.choices = [(code, g.name) for code, g in groups().items()]


class SkillsForm(Form):
    """One person's answer to the skills survey: where they work, what they do, and their level in
    each competency of the framework (one field per competency, named ``level-<code>``)."""

    ministry = forms.ChoiceField(
        label=_("Your ministry"),
        error_messages={"required": _("Choose your ministry."), "invalid_choice": _("Choose your ministry.")},
    )
    role = forms.ChoiceField(
        label=_("Your role"),
        error_messages={"required": _("Choose your role."), "invalid_choice": _("Choose your role.")},
    )

    def __init__(
        self,
        *args: Any,
        ministries: list[tuple[str, str]],
        roles: list[tuple[str, str]],
        competencies: list[tuple[str, str]],
        levels: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        ministry_field = self.fields["ministry"]
        assert isinstance(role_field, forms.ChoiceField) and isinstance(ministry_field, forms.ChoiceField)
        role_field.choices = [("", _("Choose…")), *roles]
        ministry_field.choices = [("", _("Choose…")), *ministries]
        for code, label in competencies:
            self.fields[f"level-{code}"] = forms.TypedChoiceField(
                coerce=int,
                label=label,
                choices=[("", _("Choose…")), *[(value, name) for value, name in levels]],
                error_messages={
                    "required": _("Give your level in %(competency)s.") % {"competency": label},
                    "invalid_choice": _("Choose a level from 0 to 4."),
                },
            )

    def levels(self) -> dict[str, int]:
        return {
            name.removeprefix("level-"): int(v) for name, v in self.cleaned_data.items() if name.startswith("level-")
        }


class RoundForm(Form):
    """Which round of the skills survey the gaps page shows."""

    round = forms.ChoiceField(
        label=_("Survey round"),
        error_messages={"invalid_choice": _("Choose one of the survey rounds listed.")},
    )

    def __init__(self, *args: Any, rounds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["round"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = rounds


class AssessmentOpenForm(Form):
    """An agency's self-assessment for one round."""

    agency = forms.ChoiceField(
        label=_("Agency"),
        error_messages={"required": _("Choose the agency."), "invalid_choice": _("Choose the agency.")},
    )
    round = WholeNumberField(
        label=_("Round"),
        help_text=_("The year of the assessment."),
        error_messages={"required": _("The round is the year of the assessment.")},
    )

    def __init__(self, *args: Any, agencies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose…")), *agencies]


class SkillsRoundOpenForm(Form):
    """A new round of the skills survey."""

    code = TextField(
        max_length=40,
        required=True,
        label=_("Code"),
        help_text=_("Letters, digits and dashes, such as 2026 or 2026-2."),
        error_messages={"required": _("Give the round a code, such as 2026.")},
    )
    title = TextField(
        max_length=200,
        required=True,
        label=_("Title"),
        help_text=_("What staff see above the survey, such as ICT skills survey 2026."),
        error_messages={"required": _("Give the round a title.")},
    )


class SkillsRoundCloseForm(Form):
    """The button that closes an open round."""

    close = TextField(max_length=40, required=True)


class AnswerForm(Form):
    """The agency's maturity level on one pillar, with a link or a file as evidence."""

    pillar = forms.ChoiceField(
        label=_("Pillar"),
        error_messages={"required": _("Choose a pillar."), "invalid_choice": _("Choose a pillar not yet answered.")},
    )
    level = forms.TypedChoiceField(
        coerce=int,
        label=_("Maturity level"),
        error_messages={
            "required": _("Choose a maturity level from 0 to 4."),
            "invalid_choice": _("Choose a maturity level from 0 to 4."),
        },
    )
    evidence_url = TextField(max_length=500, label=_("Evidence: a link"), help_text=_("Starting with https://."))
    evidence_file = forms.FileField(label=_("Or evidence: a file"), required=False)

    def __init__(
        self, *args: Any, pillars: list[tuple[str, str]], levels: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        pillar_field = self.fields["pillar"]
        level_field = self.fields["level"]
        assert isinstance(pillar_field, forms.ChoiceField) and isinstance(level_field, forms.TypedChoiceField)
        pillar_field.choices = [("", _("Choose…")), *pillars]
        level_field.choices = [("", _("Choose…")), *levels]


class SignOffForm(Form):
    """The reviewer's button that signs an assessment off."""

    action = forms.ChoiceField(choices=[("sign-off", "sign-off")])

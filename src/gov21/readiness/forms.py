from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form
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

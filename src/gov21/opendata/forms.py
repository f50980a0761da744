from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import TextField


class SearchForm(forms.Form):
    q = TextField(max_length=200, clip=True, label=_("Search datasets"))
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)


class PreviewForm(forms.Form):
    """Which page of a table's preview to show, sorted by which column."""

    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    sort = TextField(max_length=63, clip=True)
    desc = forms.BooleanField(required=False)

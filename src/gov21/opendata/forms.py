from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form, TextField


class SearchForm(forms.Form):
    q = TextField(max_length=200, clip=True, label=_("Search datasets"))
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)


class PreviewForm(forms.Form):
    """Which page of a table's preview to show, sorted by which column."""

    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    sort = TextField(max_length=63, clip=True)
    desc = forms.BooleanField(required=False)


def _licence_choices() -> list[tuple[str, str]]:
    from gov21.opendata.licences import LICENCES

    return [(lic.id, lic.title) for lic in LICENCES]


FREQUENCY_CHOICES = [
    ("daily", _("Daily")),
    ("weekly", _("Weekly")),
    ("monthly", _("Monthly")),
    ("quarterly", _("Quarterly")),
    ("annual", _("Every year")),
    ("irregular", _("Irregularly")),
]


class ActionForm(forms.Form):
    """Which of a dataset page's forms was sent, told by its submit button."""

    action = forms.ChoiceField(choices=[("describe", "describe"), ("resource", "resource"), ("version", "version")])


class DatasetForm(Form):
    """A dataset's description in the publishers' back office (its name only when it is created)."""

    name = TextField(
        max_length=100,
        required=True,
        label=_("Web address name"),
        help_text=_("2 to 100 lower-case letters, digits or hyphens; it cannot be changed later."),
    )
    title = TextField(max_length=300, required=True, label=_("Title"))
    notes = TextField(max_length=20_000, label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}))
    owner_org = TextField(
        max_length=50,
        required=True,
        label=_("Publishing agency"),
        help_text=_("The agency's code in the exchange directory, for example STATS."),
    )
    license_id = forms.ChoiceField(choices=_licence_choices, label=_("Licence"))
    frequency = forms.ChoiceField(choices=FREQUENCY_CHOICES, label=_("How often it is updated"))
    tags = TextField(max_length=1000, label=_("Tags"), help_text=_("Separated by commas."))
    contact_name = TextField(max_length=200, label=_("Contact name"))
    contact_email = forms.EmailField(max_length=200, required=False, label=_("Contact email"))

    def data_for_service(self) -> dict[str, object]:
        data = dict(self.cleaned_data)
        data["tags"] = [t.strip() for t in str(data.pop("tags") or "").split(",") if t.strip()]
        return data


class ResourceForm(Form):
    """A new resource: an uploaded file (a CSV or XLSX table goes to the datastore) or a link."""

    name = TextField(max_length=300, label=_("Name"))
    upload = forms.FileField(required=False, label=_("File"), help_text=_("CSV and XLSX tables can be previewed."))
    url = TextField(max_length=1000, label=_("Or a link"), help_text=_("An http or https address."))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if not cleaned.get("upload") and not cleaned.get("url"):
            raise forms.ValidationError(_("Upload a file or give a link."), code="missing_value")
        return cleaned


class VersionForm(Form):
    """A new release of a dataset's table, with what changed."""

    table = forms.FileField(label=_("Table (CSV or XLSX)"))
    change_note = TextField(
        max_length=2000, required=True, label=_("What changed"), widget=forms.Textarea(attrs={"rows": 3})
    )


class HarvestSourceForm(Form):
    name = TextField(max_length=100, required=True, label=_("Short name"), help_text=_("For example xb-portal."))
    title = TextField(max_length=300, label=_("Title"))
    url = TextField(max_length=1000, required=True, label=_("Address"))
    kind = forms.ChoiceField(choices=[("ckan", "CKAN"), ("dcat", "DCAT (Turtle, JSON-LD, RDF/XML)")], label=_("Kind"))
    organization = TextField(
        max_length=50,
        required=True,
        label=_("File the datasets under"),
        help_text=_("The agency's code in the exchange directory, for example DGO."),
    )
    frequency = forms.ChoiceField(
        choices=[
            ("manual", _("Only when asked")),
            ("hourly", _("Every hour")),
            ("daily", _("Every day")),
            ("weekly", _("Every week")),
        ],
        initial="daily",
        label=_("Harvest"),
    )

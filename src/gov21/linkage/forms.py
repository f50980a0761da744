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


ENCODINGS = (
    ("utf-8", _("UTF-8 (most files)")),
    ("cp1252", _("Windows Western (cp1252)")),
    ("latin-1", _("Latin-1 (ISO 8859-1)")),
    ("utf-16", _("UTF-16")),
)


class UploadForm(Form):
    """An agency's file for the record linkage, as ``gov21 linkage import`` takes it."""

    source = forms.CharField(
        max_length=60,
        label=_("Source"),
        help_text=_("A name for this list, in lower-case letters, digits and hyphens, such as msd-2009."),
        error_messages={"required": _("Name the source, such as msd-2009.")},
    )
    agency = forms.CharField(
        max_length=120,
        label=_("Agency"),
        help_text=_("The agency's exchange member code, such as MSD or MSD/benefits."),
        error_messages={"required": _("Name the agency by its exchange member code, such as MSD.")},
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV, XLSX or Parquet, one person a row, with a header row."),
        error_messages={
            "required": _("Choose the agency's file."),
            "empty": _("The file is empty."),
            "invalid": _("Choose the agency's file."),
        },
    )
    mapping = forms.FileField(
        required=False,
        label=_("Mapping of columns (optional)"),
        help_text=_(
            "A YAML file naming the file's column for each linkage field. Without it, columns named"
            " record_id, given_names, surname, date_of_birth and so on are recognised."
        ),
        error_messages={"empty": _("The mapping file is empty.")},
    )
    encoding = forms.ChoiceField(
        choices=ENCODINGS,
        initial="utf-8",
        label=_("Encoding of a CSV file"),
        error_messages={"invalid_choice": _("Choose one of the encodings listed.")},
    )

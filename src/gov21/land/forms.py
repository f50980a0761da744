"""The forms of the land register's office pages, on the one form base (``core.forms``)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form, TextField
from gov21.land.records import OwnerShare, PartyRef

_LINE = re.compile(r"(?:(person|business|agency):)?(\S+)(?:\s+(\S+))?")


def _owner_lines(text: str) -> list[OwnerShare]:
    """Owners typed one a line: an identifier (a UIN, or ``business:`` / ``agency:`` and its number)
    and its share (``1/2``; the whole when left out)."""
    owners = []
    for number, line in enumerate((raw.strip() for raw in text.splitlines()), start=1):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        try:
            if match is None:
                raise ValueError
            party = PartyRef(kind=match.group(1) or "person", identifier=match.group(2))  # type: ignore[arg-type]
            owners.append(OwnerShare(party=party, share=match.group(3) or "1/1"))
        except ValueError:
            raise ValidationError(
                _("Line %(line)d is not an owner and a share, such as 2345678901 1/2."),
                code="invalid_owner",
                params={"line": number},
            ) from None
    if not owners:
        raise ValidationError(_("Name at least one owner."), code="required")
    return owners


class ParcelFindForm(Form):
    number = TextField(max_length=30, required=True, label=_("Parcel number"), help_text=_("For example XA-01-000123"))


class AsOfForm(Form):
    as_of = forms.DateField(
        required=False,
        label=_("Show the title as it stood at the end of"),
        help_text=_("A date such as 2026-03-31; leave empty for today."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, such as 2026-03-31.")},
    )


class OwnersField(TextField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_length=4000, required=True, widget=forms.Textarea(attrs={"rows": 3}), **kwargs)  # type: ignore[arg-type]

    def clean(self, value: object) -> list[OwnerShare]:
        return _owner_lines(str(super().clean(value)))


class TransferForm(Form):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    applicant = TextField(
        max_length=20,
        required=True,
        label=_("UIN of the registered owner who sells"),
        help_text=_("The owner, or their representative (then give the owner's UIN below)."),
    )
    represents = TextField(max_length=20, label=_("UIN of the owner represented (if any)"))
    buyers = OwnersField(
        label=_("Buyers and their shares"),
        help_text=_("One a line: a UIN, or business: and its number, then the share, such as 2345678901 1/2."),
    )


class MortgageForm(Form):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    applicant = TextField(max_length=20, required=True, label=_("UIN of the registered owner"))
    lender = TextField(
        max_length=40,
        required=True,
        label=_("Lender"),
        help_text=_("A business by its registration number (business:BN-2026-000001) or an agency (agency:MSD)."),
    )
    amount = forms.DecimalField(
        min_value=1,
        max_digits=14,
        decimal_places=2,
        label=_("Amount lent"),
        error_messages={"required": _("Enter the amount lent."), "invalid": _("Enter the amount as a number.")},
    )

    def clean_lender(self) -> PartyRef:
        text = str(self.cleaned_data["lender"])
        kind, _sep, identifier = text.partition(":")
        if kind not in ("business", "agency") or not identifier:
            raise ValidationError(_("Write business: or agency: and then the lender's number."), code="invalid_lender")
        try:
            return PartyRef(kind=kind, identifier=identifier)  # type: ignore[arg-type]
        except ValueError:
            raise ValidationError(
                _("That is not a registration number or member code."), code="invalid_lender"
            ) from None


class DecisionForm(Form):
    action = forms.ChoiceField(
        choices=[("check", _("Checked")), ("register", _("Register")), ("reject", _("Reject"))],
        error_messages={"required": _("Choose what to do."), "invalid_choice": _("Choose what to do.")},
    )
    reason = TextField(max_length=500, label=_("Reason for rejecting, for the applicant"))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("action") == "reject" and not data.get("reason"):
            self.add_error("reason", ValidationError(_("Give the reason for rejecting."), code="required"))
        return data


class HeirsForm(Form):
    heirs = OwnersField(
        label=_("Heirs and their shares of the estate"),
        help_text=_("One a line, from the will or the court's order: a UIN and the share, such as 2345678901 1/2."),
    )

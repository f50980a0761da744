"""Input parsing for the registrar back office. Forms turn what was typed into the values the registry's
services take; the rules themselves (check digits aside, which belong to ``core.ids``) stay in the services,
and a ``DomainError`` they raise is put next to the field it names."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from gov21.core import forms as core_forms
from gov21.core.errors import DomainError
from gov21.core.geography import geography
from gov21.core.ids import uin_check
from gov21.registry.models import EventKind
from gov21.registry.records import PersonFacts

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Readable names for the facts of a declaration and the attributes of a person record.
FIELD_LABELS: dict[str, StrOrPromise] = {
    "uin": _("UIN"),
    "given_names": _("Given names"),
    "family_name": _("Family name"),
    "former_names": _("Former names"),
    "sex": _("Sex"),
    "birth_date": _("Date of birth"),
    "birth_parish": _("Parish of birth"),
    "birth_settlement": _("Place of birth"),
    "mother_uin": _("Mother's UIN"),
    "father_uin": _("Father's UIN"),
    "citizenship": _("Citizenship"),
    "address_parish": _("Parish of address"),
    "address_settlement": _("Settlement of address"),
    "address_line": _("Address"),
    "address_since": _("At this address since"),
    "marital_status": _("Marital status"),
    "status": _("Status"),
    "death_date": _("Date of death"),
    "informant": _("Informant"),
    "place_parish": _("Parish of death"),
    "cause": _("Cause of death"),
    "partner_a_uin": _("First party's UIN"),
    "partner_b_uin": _("Second party's UIN"),
    "partner_a_new_family_name": _("First party's new family name"),
    "partner_b_new_family_name": _("Second party's new family name"),
    "date": _("Date"),
    "parish": _("Parish"),
    "settlement": _("Settlement"),
    "line": _("Address"),
    "court_reference": _("Court reference"),
    "reason": _("Reason"),
}

SEX_CHOICES = [("F", _("Female")), ("M", _("Male")), ("X", _("Unspecified"))]
_UIN_ATTRS = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false", "style": "width:12rem"}
_NAME_ATTRS = {"autocomplete": "off", "spellcheck": "false"}


def parish_choices() -> list[tuple[str, str]]:
    """The parishes a place can be in, as the choices of a select."""
    return [(parish.code, f"{parish.name} ({parish.code})") for parish in geography()]


class GovForm(core_forms.Form):
    """A form rendered the GOV.UK way: ids equal to field names (so an error summary can link to them), no
    browser validation bubbles (the server's messages are the ones shown), and errors tied to their field
    for screen readers."""

    # Service field names that differ from this form's.
    field_aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        super().full_clean()
        self._describe()

    def add_domain_error(self, error: DomainError) -> int:
        """Show ``error`` next to the field it names, or above the form; return the HTTP status to answer
        with: 200 when the person can fix it in this form, the error's own status otherwise."""
        name = self.field_aliases.get(error.field or "", error.field)
        if name in self.fields:
            self.add_error(name, error.detail)
            status = 200
        else:
            self.add_error(None, error.detail)
            status = 200 if error.status in (400, 422) else error.status
        self._describe()
        return status

    def anchor(self, name: str) -> str:
        """The id of the first control of a field, where an error summary link takes the focus."""
        bound = self[name]
        if isinstance(bound.field.widget, forms.RadioSelect | forms.MultiWidget):
            return f"{bound.auto_id}_0"
        return str(bound.id_for_label)

    def error_summary(self) -> list[dict[str, str]]:
        items = [{"href": "", "message": str(message)} for message in self.non_field_errors()]
        for name, field in self.fields.items():
            href = "" if field.widget.is_hidden else f"#{self.anchor(name)}"
            items.extend({"href": href, "message": str(message)} for message in self.errors.get(name, []))
        return items

    def _describe(self) -> None:
        for name, field in self.fields.items():
            # Radios and date parts are described on their fieldset, not on each input.
            if isinstance(field.widget, forms.RadioSelect | forms.MultiWidget | forms.HiddenInput):
                continue
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            if name in self.errors:
                ids.append(f"{bound.auto_id}_error")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)


class RadioWidget(forms.RadioSelect):
    template_name = "registry/_radio_widget.html"


class DatePartsWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year typed in three boxes, which is easier to get right than a
    calendar picker or a single formatted box on any phone."""

    template_name = "registry/_date_widget.html"
    use_fieldset = True
    part_labels = (_("Day"), _("Month"), _("Year"))

    def __init__(self) -> None:
        def part(width: str) -> forms.TextInput:
            return forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "style": f"width:{width}"})

        super().__init__(widgets={"day": part("4rem"), "month": part("4rem"), "year": part("6rem")})

    def decompress(self, value: object) -> list[int | None]:
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name: str, value: object, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        for label, sub in zip(self.part_labels, context["widget"]["subwidgets"], strict=True):
            sub["label"] = label
        return context


class DatePartsField(forms.MultiValueField):
    widget = DatePartsWidget

    def __init__(
        self,
        *,
        label: StrOrPromise,
        required_message: StrOrPromise,
        required: bool = True,
        help_text: StrOrPromise = "",
        **kwargs: Any,
    ) -> None:
        parts = (forms.CharField(required=False), forms.CharField(required=False), forms.CharField(required=False))
        super().__init__(
            fields=parts,
            require_all_fields=False,
            required=required,
            label=label,
            help_text=help_text or _("For example, 27 3 2024"),
            error_messages={"required": required_message},
            **kwargs,
        )

    def compress(self, data_list: Any) -> date | None:
        if not data_list or not any(data_list):
            return None
        day, month, year = (str(v or "").strip() for v in data_list)
        label = str(self.label)
        for value, part in ((day, _("day")), (month, _("month")), (year, _("year"))):
            if not value:
                raise forms.ValidationError(_("%(label)s must include a %(part)s") % {"label": label, "part": part})
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(_("%(label)s must be a real date") % {"label": label})
        try:
            return date(int(year), int(month), int(day))
        except ValueError as exc:
            raise forms.ValidationError(_("%(label)s must be a real date") % {"label": label}) from exc


def _uin(value: str, field: str) -> str:
    if not value:
        return ""
    try:
        return uin_check(value, field=field)
    except DomainError as error:
        raise forms.ValidationError(error.detail) from error


class UinField(forms.CharField):
    """A UIN typed by a person: the check digit is verified here, so a typing error is shown next to
    the field before anything reaches the registry."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs=_UIN_ATTRS))
        super().__init__(**kwargs)

    def clean(self, value: object) -> str:
        return _uin(super().clean(value), "uin")


def _use_parish_list(form: forms.Form, name: str) -> None:
    """Make a typed parish field a select of the country's parishes."""
    choices = parish_choices()
    old = form.fields[name]
    blank = _("Choose a parish") if old.required else _("Not known")
    form.fields[name] = forms.ChoiceField(
        label=old.label, required=old.required, choices=[("", blank), *choices], error_messages=old.error_messages
    )


class QueueFilterForm(GovForm):
    kind = forms.ChoiceField(
        label=_("Kind of declaration"), required=False, choices=[("", _("All kinds")), *EventKind.choices]
    )


class BirthForm(GovForm):
    given_names = forms.CharField(
        label=_("Child's given names"),
        max_length=200,
        widget=forms.TextInput(attrs=_NAME_ATTRS),
        error_messages={"required": _("Enter the child's given names")},
    )
    family_name = forms.CharField(
        label=_("Child's family name"),
        max_length=200,
        widget=forms.TextInput(attrs=_NAME_ATTRS),
        error_messages={"required": _("Enter the child's family name")},
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=SEX_CHOICES,
        widget=RadioWidget,
        error_messages={"required": _("Select the child's sex")},
    )
    birth_date = DatePartsField(label=_("Date of birth"), required_message=_("Enter the date of birth"))
    birth_parish = forms.CharField(
        label=_("Parish of birth"),
        max_length=12,
        help_text=_("The parish code, for example XA-01"),
        error_messages={"required": _("Enter the parish where the child was born")},
    )
    birth_settlement = forms.CharField(
        label=_("Town or village of birth"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "settlements", "autocomplete": "off"}),
    )
    mother_uin = UinField(
        label=_("Mother's UIN"),
        help_text=_("10 digits, on her identity card"),
        error_messages={"required": _("Enter the mother's UIN")},
    )
    father_uin = UinField(
        label=_("Father's UIN (optional)"),
        required=False,
        help_text=_("Leave empty if the father is not named on the declaration"),
    )
    informant = forms.CharField(
        label=_("Informant"),
        max_length=200,
        help_text=_("Who declared the birth, and how they are related to the child, for example: the mother"),
        error_messages={"required": _("Enter who declared the birth")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _use_parish_list(self, "birth_parish")


class DeathForm(GovForm):
    uin = UinField(
        label=_("UIN of the person who died"),
        error_messages={"required": _("Enter the UIN of the person who died")},
    )
    death_date = DatePartsField(label=_("Date of death"), required_message=_("Enter the date of death"))
    place_parish = forms.CharField(
        label=_("Parish of death (optional)"),
        max_length=12,
        required=False,
        help_text=_("The parish code, for example XA-01"),
    )
    cause = forms.CharField(label=_("Cause of death (optional)"), max_length=300, required=False, widget=forms.Textarea)
    informant = forms.CharField(
        label=_("Informant"),
        max_length=200,
        help_text=_("Who declared the death, and how they are related to the person, for example: the daughter"),
        error_messages={"required": _("Enter who declared the death")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _use_parish_list(self, "place_parish")


class MarriageForm(GovForm):
    partner_a_uin = UinField(
        label=_("First party's UIN"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the first party's UIN")},
    )
    partner_a_new_family_name = forms.CharField(
        label=_("First party's new family name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if they keep their family name"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    partner_b_uin = UinField(
        label=_("Second party's UIN"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the second party's UIN")},
    )
    partner_b_new_family_name = forms.CharField(
        label=_("Second party's new family name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if they keep their family name"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    date = DatePartsField(label=_("Date of marriage"), required_message=_("Enter the date of marriage"))
    parish = forms.CharField(
        label=_("Parish of marriage"),
        max_length=12,
        help_text=_("The parish code, for example XA-01"),
        error_messages={"required": _("Enter the parish where the marriage took place")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _use_parish_list(self, "parish")


class AddressForm(GovForm):
    uin = UinField(
        label=_("UIN of the person who moved"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the UIN of the person who moved")},
    )
    date = DatePartsField(label=_("Date of the move"), required_message=_("Enter the date of the move"))
    parish = forms.CharField(
        label=_("Parish of the new address"),
        max_length=12,
        help_text=_("The parish code, for example XA-01"),
        error_messages={"required": _("Enter the parish of the new address")},
    )
    settlement = forms.CharField(
        label=_("Town or village (optional)"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "settlements", "autocomplete": "off"}),
    )
    line = forms.CharField(
        label=_("Address"),
        max_length=200,
        help_text=_("House number or name, and street, for example: 12 Bay Street"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Enter the new address")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _use_parish_list(self, "parish")


class DivorceForm(GovForm):
    partner_a_uin = UinField(
        label=_("First party's UIN"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the first party's UIN")},
    )
    partner_a_new_family_name = forms.CharField(
        label=_("First party's family name after the divorce (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if they keep their family name"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    partner_b_uin = UinField(
        label=_("Second party's UIN"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the second party's UIN")},
    )
    partner_b_new_family_name = forms.CharField(
        label=_("Second party's family name after the divorce (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if they keep their family name"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    date = DatePartsField(label=_("Date of the divorce"), required_message=_("Enter the date of the divorce"))
    court_reference = forms.CharField(
        label=_("Court reference (optional)"),
        max_length=200,
        required=False,
        help_text=_("The reference of the court's decree, for example HCV 2026/0142"),
    )


class NameChangeForm(GovForm):
    uin = UinField(
        label=_("UIN of the person changing their name"),
        help_text=_("10 digits, on their identity card"),
        error_messages={"required": _("Enter the UIN of the person changing their name")},
    )
    date = DatePartsField(
        label=_("Date the new name takes effect"), required_message=_("Enter the date the new name takes effect")
    )
    given_names = forms.CharField(
        label=_("New given names (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to keep the given names"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    family_name = forms.CharField(
        label=_("New family name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to keep the family name"),
        widget=forms.TextInput(attrs=_NAME_ATTRS),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=200,
        help_text=_("For example: deed poll registered on 3 March 2026, or adoption"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the change of name")},
    )


# The form each kind of declaration is typed in, on its own page and when a declarant's correction
# is entered at the counter.
DECLARATION_FORMS: dict[str, type[GovForm]] = {
    EventKind.BIRTH: BirthForm,
    EventKind.DEATH: DeathForm,
    EventKind.MARRIAGE: MarriageForm,
    EventKind.DIVORCE: DivorceForm,
    EventKind.NAME_CHANGE: NameChangeForm,
    EventKind.ADDRESS_CHANGE: AddressForm,
}


def form_data(form_class: type[GovForm], facts: Mapping[str, Any]) -> dict[str, str]:
    """What a person would have typed in ``form_class`` to declare ``facts``: the data to bind it with
    when answers kept elsewhere are shown again in their form."""
    form = form_class()
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        value = facts.get(name)
        if isinstance(field, DatePartsField):
            parts = zip(("day", "month", "year"), DatePartsWidget().decompress(value), strict=True)
            data.update({f"{name}_{part}": str(v or "") for part, v in parts})
        else:
            data[name] = "" if value is None else str(value)
    return data


class CheckForm(GovForm):
    """The confirmation of a declaration's answers, as shown on its check page. The answers stay on the
    server; ``answers`` carries a signed digest of those shown, so what is declared is what was read:
    answers changed since (in another window) or a digest altered are refused, never declared."""

    answers = forms.CharField(widget=forms.HiddenInput, required=False)

    _SALT: ClassVar[str] = "gov21.registry.declare-check"

    def __init__(self, *args: Any, kind: str, facts: Mapping[str, Any], **kwargs: Any) -> None:
        self.kind = kind
        self.facts = facts
        kwargs.setdefault("initial", {"answers": signing.dumps(self._digest(kind, facts), salt=self._SALT)})
        super().__init__(*args, **kwargs)

    @staticmethod
    def _digest(kind: str, facts: Mapping[str, Any]) -> str:
        text = json.dumps({"kind": kind, "facts": facts}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def clean_answers(self) -> str:
        try:
            digest = str(signing.loads(self.cleaned_data["answers"], salt=self._SALT))
        except signing.BadSignature as exc:
            raise forms.ValidationError(
                _("These answers cannot be confirmed: the page was altered. Check the answers below again."),
                code="tampered",
            ) from exc
        if digest != self._digest(self.kind, self.facts):
            raise forms.ValidationError(
                _("The answers were changed in another window. Check the answers below again."), code="changed"
            )
        return digest


# The services word what is missing from a reason or a note, so these fields are not required here.
class RejectForm(GovForm):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        help_text=_("The declarant is told this reason."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(GovForm):
    note = forms.CharField(
        label=_("What needs correcting"),
        help_text=_("The declarant is asked to correct the declaration and send it again."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RevokeForm(GovForm):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        help_text=_("Anyone who checks the certificate is told this reason."),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolutionForm(GovForm):
    resolution = forms.ChoiceField(choices=[("distinct", _("Not a duplicate")), ("duplicate", _("Is a duplicate"))])


# What is written in the access log, and so shown to the person: in one language, whatever the page's.
PURPOSES: dict[str, str] = {
    "registration": "Registration work",
    "certificate": "Certificate request",
    "correction": "Correction",
    "investigation": "Investigation",
}


class PurposeForm(GovForm):
    purpose_reason = forms.ChoiceField(
        label=_("Why do you need this person's data?"),
        help_text=_("It is recorded, and the person can see who looked at their record and why."),
        choices=[
            ("", _("Choose a reason")),
            ("registration", _("Registration work")),
            ("certificate", _("Certificate request")),
            ("correction", _("Correction")),
            ("investigation", _("Investigation — give details")),
        ],
        error_messages={"required": _("Select why you need this person's data")},
    )
    purpose_detail = forms.CharField(
        label=_("Details (optional, needed for an investigation)"),
        help_text=_("For example, a case or file number"),
        max_length=200,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose_reason") == "investigation" and not data.get("purpose_detail", "").strip():
            self.add_error("purpose_detail", _("Give details of the investigation, such as the case number"))
        return data

    def purpose(self) -> str:
        reason = PURPOSES[self.cleaned_data["purpose_reason"]]
        detail = self.cleaned_data.get("purpose_detail", "").strip()
        return f"{reason}: {detail}" if detail else reason


class SearchForm(PurposeForm):
    query = forms.CharField(
        label=_("UIN or name"),
        max_length=100,
        help_text=_("A full UIN opens the record. A name finds everyone whose names start with the words typed."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter a UIN or a name")},
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)
    field_aliases = {"name": "query", "uin": "query"}

    def clean_query(self) -> str:
        query = " ".join(self.cleaned_data["query"].split())
        digits = query.replace(" ", "")
        if digits.isdigit():
            self.cleaned_data["uin"] = _uin(digits, "query")
        return query


class AsOfForm(GovForm):
    as_of = DatePartsField(
        label=_("Date to look at"),
        required_message=_("Enter the date to look at"),
        help_text=_("The record is shown as it stood at the end of this day. For example, 1 6 2010"),
    )


class CorrectionForm(GovForm):
    """The correctable attributes of a person. Only what the registrar changed is sent: ``original`` carries
    the values the form was filled with, signed, so a correction made meanwhile by someone else is not
    silently undone by this form's older copy."""

    given_names = forms.CharField(label=_("Given names"), max_length=200, widget=forms.TextInput(attrs=_NAME_ATTRS))
    family_name = forms.CharField(label=_("Family name"), max_length=200, widget=forms.TextInput(attrs=_NAME_ATTRS))
    sex = forms.ChoiceField(label=_("Sex"), choices=SEX_CHOICES, widget=RadioWidget)
    birth_date = DatePartsField(label=_("Date of birth"), required_message=_("Enter the date of birth"))
    birth_parish = forms.CharField(label=_("Parish of birth"), max_length=12)
    birth_settlement = forms.CharField(label=_("Place of birth"), max_length=120, required=False)
    reason = forms.CharField(
        label=_("Reason for the correction"),
        help_text=_("Say what the error was and what document shows the right value. It is kept with the record."),
        max_length=480,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for the correction")},
    )
    original = forms.CharField(widget=forms.HiddenInput)
    purpose = forms.CharField(widget=forms.HiddenInput, required=False)

    CORRECTABLE: ClassVar[tuple[str, ...]] = (
        "given_names",
        "family_name",
        "sex",
        "birth_date",
        "birth_parish",
        "birth_settlement",
    )
    _SALT: ClassVar[str] = "gov21.registry.person-correct"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _use_parish_list(self, "birth_parish")

    @classmethod
    def for_record(cls, record: PersonFacts, *, purpose: str) -> CorrectionForm:
        facts = record.model_dump(mode="json")
        values = {name: facts[name] or "" for name in cls.CORRECTABLE}
        return cls(initial={**values, "original": signing.dumps(values, salt=cls._SALT), "purpose": purpose})

    def clean_original(self) -> dict[str, Any]:
        try:
            values: dict[str, Any] = signing.loads(self.cleaned_data["original"], salt=self._SALT)
        except signing.BadSignature as exc:
            raise forms.ValidationError(_("This form was changed or is out of date. Open the record again.")) from exc
        return values

    def changes(self) -> dict[str, object]:
        original = self.cleaned_data["original"]
        changed: dict[str, object] = {}
        for name in self.CORRECTABLE:
            value = self.cleaned_data[name]
            text = value.isoformat() if isinstance(value, date) else value
            if text != original.get(name, ""):
                changed[name] = text
        return changed


class CertificateCodeForm(core_forms.Form):
    """The text of a document's QR code, pasted, or brought by the verification address a phone's
    camera opened (``code``; ``payload`` is the older name of the same)."""

    payload = forms.CharField(required=False)
    code = forms.CharField(required=False)

    def code_text(self) -> str:
        return self.typed("payload") or self.typed("code")


class DocumentLookupForm(GovForm):
    """A printed serial number and the holder's date of birth, for someone who cannot scan the code."""

    serial = forms.CharField(
        label=_("Serial number"),
        max_length=40,
        help_text=_("Printed on the document, for example D-2026-1A2B3C4D5E or BC-2026-1A2B3C4D5E"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Enter the serial number printed on the document")},
    )
    birth_date = DatePartsField(
        label=_("The holder's date of birth"),
        required_message=_("Enter the date of birth of the person the document is about"),
    )

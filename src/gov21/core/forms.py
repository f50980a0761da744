"""The form base every HTML page of gov21 reads its input with.

What arrives in a POST is treated as hostile: text is stripped, a NUL or other control character is
refused (PostgreSQL cannot store a NUL, and the others only hide what was really typed), and every
text field has a maximum length. Messages are written for the person at the keyboard and translatable.
A page binds a form with ``bind``, and either shows ``first_errors`` next to the fields or turns the
first error into a ``DomainError`` with ``cleaned`` to share the path of the service's own refusals.
"""

from __future__ import annotations

import re
from typing import Any, Self

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gov21.core.errors import DomainError

# Tab, line feed and carriage return are what a text area sends; every other control character is refused.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The most characters a text field without its own limit accepts.
DEFAULT_MAX_LENGTH = 10_000


def refuse_control_characters(value: str) -> None:
    """Refuse text holding a NUL or another control character."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(_("The text contains characters we cannot accept. Type it again."), code="invalid_text")


class LengthLimit:
    """Refuse text longer than ``limit`` characters, saying the limit as a person reads it (2,000), and
    naming the field by its label when it has one, as an error summary lists every field's message."""

    def __init__(self, limit: int, label: object = None) -> None:
        self.limit = limit
        self.label = label

    def __call__(self, value: str) -> None:
        if len(value) > self.limit:
            limit = f"{self.limit:,}"
            if self.label:
                message = _("%(field)s must be %(limit)s characters or fewer.") % {"field": self.label, "limit": limit}
            else:
                message = _("Write %(limit)s characters or fewer.") % {"limit": limit}
            raise ValidationError(message, code="text_too_long")


def typed(value: str, limit: int) -> str:
    """What was typed, to show again in its field after an error: without what we refused, at most ``limit``."""
    return CONTROL_CHARACTERS.sub("", value)[:limit]


class TextField(forms.CharField):
    """Text typed by a person: stripped (unless ``strip=False``, for passwords), at most ``max_length``
    characters, no control characters, and optional unless ``required=True``.

    ``clip=True`` cuts longer text to ``max_length`` instead of refusing it, for fields whose value is
    only looked up (a sign-in name, a code) and where a long one simply matches nothing."""

    def __init__(self, *, max_length: int, clip: bool = False, required: bool = False, **kwargs: Any) -> None:
        super().__init__(required=required, **kwargs)
        self.max_length = max_length
        self.clip = clip
        _harden(self)

    def to_python(self, value: object) -> str:
        text = str(super().to_python(value))
        return text[: self.max_length] if self.clip else text


class TextListField(forms.Field):
    """Several texts sent under one name (the boxes ticked in a list): each stripped, at most
    ``max_length`` characters and without control characters."""

    widget = forms.SelectMultiple

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.max_length = max_length

    def to_python(self, value: Any) -> list[str]:
        return [str(item).strip() for item in value or ()]

    def validate(self, value: Any) -> None:
        super().validate(value)
        for item in value:
            refuse_control_characters(item)
            LengthLimit(self.max_length)(item)


class FlagField(forms.BooleanField):
    """A check box or button that means yes only when it sends ``expected`` (by default "yes"); with
    ``required=True`` anything else is refused with the field's "required" message."""

    def __init__(self, *, expected: str = "yes", required: bool = False, **kwargs: Any) -> None:
        # A text input hands over what was sent as it is; a check box's own would turn "no" into True.
        super().__init__(required=required, widget=forms.TextInput, **kwargs)
        self.expected = expected

    def to_python(self, value: object) -> bool:
        return bool(value == self.expected)


class WholeNumberField(forms.Field):
    """A whole number sent by a button or a list (an id, a rating): an int, or None when what was sent
    is not one (at most 18 ASCII digits, so that it fits the database's integers)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: object) -> int | None:
        text = str(value or "").strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class Form(forms.Form):
    """A form that treats its input as hostile: every text field refuses control characters and has a
    maximum length (``DEFAULT_MAX_LENGTH`` when it declares none). The browser's own validation bubbles
    are off, so the server's messages are the ones a person sees."""

    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                _harden(field)

    @classmethod
    def bind(cls, request: HttpRequest, **kwargs: Any) -> Self:
        """The form bound to what was posted, or unbound (empty) on any other method."""
        return cls(request.POST if request.method == "POST" else None, **kwargs)

    def first_errors(self) -> dict[str, str]:
        """The first message for each field at fault ("__all__" for the form as a whole), for a template."""
        return {name: str(errors[0]) for name, errors in self.errors.items() if errors}

    def cleaned(self) -> dict[str, Any]:
        """The cleaned values; if the input is refused, a ``DomainError`` with the first message,
        naming its field, so a page handles it like any refusal of the service it calls."""
        if self.is_valid():
            return self.cleaned_data
        name, errors = next(iter(self.errors.as_data().items()))
        error = errors[0]
        message = error.message % error.params if error.params else error.message
        raise DomainError(error.code or "invalid_input", str(message), field=None if name == "__all__" else name)

    def typed_all(self) -> dict[str, str]:
        """What was typed into each field, to show again after an error (empty when unbound)."""
        return {name: self.typed(name) for name in self.fields} if self.is_bound else {}

    def value(self, name: str) -> Any:
        """One field's cleaned value, or "" when that field was refused or not sent: for protocol
        parameters, where a value we refuse counts as none sent."""
        if not self.is_bound or name in self.errors:
            return ""
        return self.cleaned_data.get(name, "")

    def typed(self, name: str) -> str:
        """What was typed into a text field, to show again after an error (see ``typed``): stripped
        when the field strips."""
        if not self.is_bound:
            return ""
        field = self.fields[name]
        raw = str(self.data.get(self.add_prefix(name), ""))
        limit = getattr(field, "max_length", None) or DEFAULT_MAX_LENGTH
        return typed(raw.strip() if getattr(field, "strip", False) else raw, limit)


def _harden(field: forms.CharField) -> None:
    """Refuse control characters (with our message for a NUL, not Django's about "null characters") and
    text over the field's maximum length, in that order."""
    if refuse_control_characters in field.validators:
        return
    kept = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator | MaxLengthValidator)]
    field.max_length = field.max_length or DEFAULT_MAX_LENGTH
    field.validators = [refuse_control_characters, LengthLimit(field.max_length, field.label), *kept]

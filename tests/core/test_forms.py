"""The form base of every HTML page: hostile input is refused with a message a person can act on."""

from __future__ import annotations

import pytest
from django import forms as django_forms
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import translation

from gov21.core import forms
from gov21.core.errors import DomainError


class NoteForm(forms.Form):
    note = forms.TextField(max_length=20)
    code = forms.TextField(max_length=4, clip=True)
    secret = forms.TextField(max_length=10, strip=False)
    checked = forms.FlagField()
    number = forms.WholeNumberField()
    tags = forms.TextListField(max_length=5)
    legacy = django_forms.CharField(required=False)
    title = django_forms.CharField(label="Title of the notice", max_length=30, required=False)


def _bound(**values: str) -> NoteForm:
    data = QueryDict(mutable=True)
    data.update(values)
    return NoteForm(data)


def test_text_is_stripped_and_a_flag_is_yes_only_when_it_says_so() -> None:
    form = _bound(note="  hello \n", code="123456", secret=" pw ", checked="on")
    assert form.cleaned() == {
        "note": "hello",
        "code": "1234",
        "secret": " pw ",
        "checked": False,
        "legacy": "",
        "title": "",
        "number": None,
        "tags": [],
    }
    assert _bound(checked="yes").cleaned()["checked"] is True


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\x7fb"])
def test_control_characters_are_refused_in_every_text_field(bad: str) -> None:
    for name in ("note", "legacy"):
        form = _bound(**{name: bad})
        assert form.first_errors() == {name: "The text contains characters we cannot accept. Type it again."}


def test_a_text_area_may_hold_lines_and_tabs() -> None:
    assert _bound(note="one\r\ntwo\tthree").cleaned()["note"] == "one\r\ntwo\tthree"


def test_text_over_its_limit_is_refused_saying_the_limit() -> None:
    assert _bound(note="x" * 21).first_errors() == {"note": "Write 20 characters or fewer."}
    assert _bound(legacy="x" * 10_001).first_errors() == {"legacy": "Write 10,000 characters or fewer."}


def test_text_over_its_limit_names_the_field_by_its_label_in_the_persons_language() -> None:
    assert _bound(title="x" * 31).first_errors() == {"title": "Title of the notice must be 30 characters or fewer."}
    with translation.override("es"):
        message = _bound(title="x" * 31).first_errors()["title"]
    assert "Title of the notice" in message and "30" in message and "characters or fewer" not in message


def test_a_refusal_becomes_a_domain_error_naming_the_field() -> None:
    with pytest.raises(DomainError) as error:
        _bound(note="x" * 21).cleaned()
    assert (error.value.code, error.value.field, error.value.status) == ("text_too_long", "note", 422)
    assert error.value.detail == "Write 20 characters or fewer."


def test_what_was_typed_is_shown_again_without_what_was_refused() -> None:
    form = _bound(note="a\x00b" + "c" * 30)
    assert form.typed("note") == "ab" + "c" * 18
    assert NoteForm().typed("note") == ""
    assert _bound(note=" hi\x07 ").typed_all()["note"] == "hi" and NoteForm().typed_all() == {}


def test_bind_reads_a_post_and_leaves_a_get_unbound() -> None:
    factory = RequestFactory()
    assert NoteForm.bind(factory.post("/", {"note": "hi"})).cleaned()["note"] == "hi"
    assert not NoteForm.bind(factory.get("/", {"note": "hi"})).is_bound


@pytest.mark.parametrize(
    ("raw", "number"), [("42", 42), (" 7 ", 7), ("", None), ("x1", None), ("²", None), ("9" * 19, None)]
)
def test_a_whole_number_is_an_int_or_none(raw: str, number: int | None) -> None:
    assert _bound(number=raw).cleaned()["number"] == number


def test_a_list_keeps_every_value_sent_and_refuses_a_bad_one() -> None:
    data = QueryDict(mutable=True)
    data.setlist("tags", [" a ", "b"])
    assert NoteForm(data).cleaned()["tags"] == ["a", "b"]
    data.setlist("tags", ["a", "toolong"])
    assert NoteForm(data).first_errors() == {"tags": "Write 5 characters or fewer."}


def test_a_refused_protocol_value_counts_as_none_sent() -> None:
    form = _bound(note="a\x00b", code="12")
    assert (form.value("note"), form.value("code"), NoteForm().value("code")) == ("", "12", "")

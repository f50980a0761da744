"""What the citizen's pages of the portal accept. The one-stop shop's services check the meaning of
each answer, rating and comment and word their own refusals; these forms refuse what no page takes
(control characters, overlong text) and turn buttons and lists into plain values."""

from __future__ import annotations

from django.http import QueryDict

from gov21.core.forms import FlagField, Form, TextField, WholeNumberField

DATE_PARTS = ("day", "month", "year")


class ConsentForm(Form):
    agree = FlagField()


class AnswerForm(Form):
    """The answer to one question, posted under the question's id; a date comes in three boxes
    (``<id>-day``, ``<id>-month``, ``<id>-year``). ``from`` says the person came from the check page."""

    def __init__(self, data: QueryDict | None, *, qid: str, kind: str) -> None:
        super().__init__(data)
        self.qid, self.kind = qid, kind
        names = [f"{qid}-{part}" for part in DATE_PARTS] if kind == "date" else [qid]
        for name in names:
            self.fields[name] = TextField(max_length=10 if kind == "date" else 10_000)
        self.fields["from"] = FlagField(expected="check")

    def answer(self) -> str:
        """The answer as the service takes it: a date as YYYY-MM-DD, or "invalid" when its boxes do
        not hold a day, a month and a four-digit year, or "" when all three are empty."""
        data = self.cleaned()
        if self.kind != "date":
            return str(data[self.qid])
        day, month, year = (str(data[f"{self.qid}-{part}"]) for part in DATE_PARTS)
        if not (day or month or year):
            return ""
        if not all(p.isascii() and p.isdigit() for p in (day, month, year)) or len(year) != 4:
            return "invalid"
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"

    def from_check(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["from"])

    def shown(self) -> str:
        """What was typed, to show again after a refusal (a date's boxes, as the service got them)."""
        if self.kind != "date":
            return self.typed(self.qid)
        return self.answer() if self.is_valid() else ""


class PayForm(Form):
    method = TextField(max_length=20)


class ApplicationActionForm(Form):
    """One of the actions on a person's own application: respond to an officer, withdraw, or say how it went."""

    action = TextField(max_length=20)
    response = TextField(max_length=10_000)
    rating = WholeNumberField()
    comment = TextField(max_length=10_000)
    # Withdrawing cannot be undone: it is done only from the confirmation page, which sends this.
    confirm = FlagField()


class ReviewRequestForm(Form):
    """A request for a review of a refusal: what the person disagrees with, new information, and which
    step they are at ("check" shows what they wrote before sending, "change" goes back to the form,
    "confirm" sends it)."""

    disagreement = TextField(max_length=4000)
    new_information = TextField(max_length=4000)
    step = TextField(max_length=10)


class FeedbackForm(Form):
    """A problem reported on any page, or a rating of a service; ``page`` is where it was reported from."""

    page = TextField(max_length=200, clip=True)
    rating = WholeNumberField()
    comment = TextField(max_length=10_000)


class NotificationReadForm(Form):
    notification = WholeNumberField()


class OfferAnswerForm(Form):
    answer = TextField(max_length=20)


class ConsentWithdrawForm(Form):
    consent = WholeNumberField()
    # Withdrawing cannot be undone: it is done only from the confirmation page, which sends this.
    confirm = FlagField()

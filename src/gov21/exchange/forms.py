"""What the exchange's back-office pages accept: an access right to grant or revoke."""

from __future__ import annotations

from gov21.core.forms import Form, TextField


class RightForm(Form):
    """Who (``subject``) may call which method and path of a service; a long value is cut to its length."""

    service = TextField(max_length=400, clip=True)
    subject = TextField(max_length=300, clip=True)
    method = TextField(max_length=10, clip=True)
    path = TextField(max_length=300, clip=True)

    def right(self) -> dict[str, str]:
        """The right as typed, to call the directory with or show again: any method ("*") and any
        path ("/**") when left empty."""
        typed = {name: self.typed(name) for name in self.fields}
        return typed | {"method": typed["method"] or "*", "path": typed["path"] or "/**"}

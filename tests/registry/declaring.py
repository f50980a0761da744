"""Declaring through the registrar's office as a registrar does: the form, then its check page, then
the confirmation."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse
from django.test import Client

OFFICE = "/office/registry"


def confirmation(page: str) -> str:
    """The signed confirmation a check page carries in its form."""
    found = re.search(r'name="answers" value="([^"]+)"', page)
    assert found, "the page has no confirmation to send"
    return found.group(1)


def declare_through_check(client: Client, slug: str, form: dict[str, Any]) -> HttpResponse:
    """Send a declaration's ``form``, see its check page, confirm it; the answer to the confirmation."""
    check_url = f"{OFFICE}/declare/{slug}/check"
    sent = client.post(f"{OFFICE}/declare/{slug}", form)
    assert sent.status_code == 302 and sent["Location"] == check_url, sent.content.decode()[:3000]
    check = client.get(check_url)
    assert check.status_code == 200
    response: HttpResponse = client.post(check_url, {"answers": confirmation(check.content.decode())})
    return response

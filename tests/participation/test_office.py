"""The moderators' office: a reported comment hidden (or its author blocked) with a reason that the
public log shows; a reason is required; a reader without the permission is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Block, Comment, ModerationEntry
from tests.identity.flows import OFFICER, csrf_from, portal_sign_in, staff
from tests.participation.helpers import process
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _signed_in(username: str, *roles: str) -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url="/office/participation/")
    return client


def _reported() -> Comment:
    process("consultation")
    author, reporter = register_person(OFFICER).uin, register_person(OFFICER).uin
    comment = services.comment_post(slug="p", uin=author, level=SUBSTANTIAL, body="<i>spam</i> spam spam")
    services.abuse_report(comment_id=comment.pk, uin=reporter, level=SUBSTANTIAL, reason="advertising")
    return comment


def test_a_moderator_blocks_the_author_of_a_reported_comment_with_a_reason() -> None:
    comment = _reported()
    moderator = _signed_in("moderator1", "clerk")
    page = moderator.get("/office/participation/")
    html = page.content.decode()
    assert page.status_code == 200 and "advertising" in html and "&lt;i&gt;spam&lt;/i&gt;" in html
    token = csrf_from(html)

    empty = moderator.post(f"/office/participation/comments/{comment.pk}/hide", {"csrfmiddlewaretoken": token})
    assert empty.status_code == 422 and "Give a reason." in empty.content.decode()
    done = moderator.post(
        f"/office/participation/comments/{comment.pk}/hide",
        {"reason": "Advertising", "block": "yes", "csrfmiddlewaretoken": token},
    )

    assert done.status_code == 302
    assert Block.objects.count() == 1
    assert ModerationEntry.objects.get().reason == "Advertising"
    assert "Advertising" in Client().get("/participation/p/moderation").content.decode()


def test_a_reader_may_not_moderate() -> None:
    comment = _reported()
    reader = Client()
    portal_sign_in(reader, staff("reader1", "reader"), next_url="/office/")
    assert reader.get("/office/participation/").status_code == 403
    assert reader.post(f"/office/participation/comments/{comment.pk}/hide", {"reason": "x"}).status_code in (403, 302)
    assert not ModerationEntry.objects.exists() and not Comment.objects.get().hidden

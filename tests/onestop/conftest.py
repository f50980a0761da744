from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.onestop.payprovider import LoopbackPayProvider, running_pay_provider


@pytest.fixture
def pay_provider() -> Iterator[LoopbackPayProvider]:
    """A GOV.UK Pay-compatible provider on loopback, with its hosted page. Point gov21 at it with
    GOV21_PAY_URL=pay_provider.url and GOV21_PAY_KEY=pay_provider.key."""
    with running_pay_provider() as provider:
        yield provider

from __future__ import annotations

import pytest

from gov21.core.hooks import Hook


def test_reactions_run_in_order_once_each_and_an_error_reaches_the_caller() -> None:
    hook: Hook[str] = Hook("test.happened")
    seen: list[str] = []

    def first(value: str) -> None:
        seen.append(f"first {value}")

    def second(value: str) -> None:
        seen.append(f"second {value}")
        if value == "bad":
            raise ValueError(value)

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)  # connected again at a second start-up: still once
    hook.fire("a")
    assert seen == ["first a", "second a"]
    with pytest.raises(ValueError, match="bad"):
        hook.fire("bad")

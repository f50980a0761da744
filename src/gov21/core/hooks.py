"""Hooks: a point where one app lets others react to what it just did, inside the same transaction,
without knowing them. The app that owns the hook fires it; whoever must react is connected to it
once, at start-up, by the platform's wiring (``gov21.wiring``), so neither app imports the other
and the whole list of reactions is written in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Hook(Generic[T]):
    """Reactions to one kind of happening, called in the order they were connected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._reactions: list[Callable[[T], None]] = []

    def connect(self, reaction: Callable[[T], None]) -> None:
        """Call ``reaction`` every time the hook fires; connecting the same reaction again changes nothing."""
        if reaction not in self._reactions:
            self._reactions.append(reaction)

    def fire(self, value: T) -> None:
        """Run every reaction with ``value``; an error in one stops the caller's transaction."""
        for reaction in self._reactions:
            reaction(value)

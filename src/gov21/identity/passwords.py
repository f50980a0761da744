"""How gov21 keeps passwords: Argon2id at OWASP's parameters, computed where it cannot starve other
requests, and a ceiling on a password's length.

* :class:`Argon2idHasher` is first in ``PASSWORD_HASHERS``: every new password is hashed with its
  parameters, and a hash made with other parameters (Django's default Argon2, PBKDF2) is hashed again
  at the person's next successful sign-in (Django's ``must_update``). Decision 0028 gives the
  measured cost of each candidate.
* The hashing itself runs on a few threads of lowered CPU priority (:data:`PASSWORD_WORK`):
  argon2 releases the GIL, so a hash does not hold up this process's other requests, and under load
  the operating system gives the processor to pages first. :data:`PASSWORD_GATE` bounds how many
  password steps a process works on or lets wait; past it the sign-in answers 503 with Retry-After.
* Argon2id hashes a password of any length, so the ceiling on length is not about truncation
  (there is none): it stops a sign-in form from being used to make the server hash megabytes. 128
  characters leaves room for any passphrase a person or a password manager makes."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gov21.core import config
from gov21.core.capacity import Gate

# Niceness of the threads that hash: a hash gets the processor when pages do not need it.
HASHING_NICENESS: Final = 10


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's named configuration (19 MiB, 2 passes, 1 lane): 29 ms of CPU instead of
    Django's default 271 ms (100 MiB, 2 passes, 8 lanes; decision 0028). The algorithm's name stays
    ``argon2``, so every stored hash still verifies, and one with other parameters is upgraded."""

    time_cost = 2
    memory_cost = 19456
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        return PASSWORD_WORK.submit(super().encode, password, salt).result()

    def verify(self, password: str, encoded: str) -> bool:
        return PASSWORD_WORK.submit(super().verify, password, encoded).result()


def _lower_priority() -> None:
    # On Linux a thread is scheduled on its own, and its niceness is its own; elsewhere this does nothing.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


# Where hashes are computed: as many threads as the gate has slots, each at lowered priority.
PASSWORD_WORK: Final = ThreadPoolExecutor(
    max_workers=max(1, config.PASSWORD_SLOTS.read()), thread_name_prefix="gov21-password", initializer=_lower_priority
)

# The password steps (a sign-in, a change, an activation) one process works on or lets wait.
PASSWORD_GATE: Final = Gate(
    name="passwords",
    slots=config.PASSWORD_SLOTS.read(),
    queue=config.PASSWORD_QUEUE.read(),
    wait_s=config.PASSWORD_WAIT_MS.read() / 1000,
    retry_after=config.BUSY_RETRY_AFTER_SECONDS.read(),
)


def _many_signing_in(seconds: int) -> str:
    return _("Many people are signing in right now. Please try again in %(seconds)d seconds.") % {"seconds": seconds}


@contextlib.contextmanager
def password_step() -> Iterator[None]:
    """Hold a slot of the password gate for one step that checks or sets a password; raises
    ``core.capacity.Busy`` (503 with Retry-After) when the gate is full."""
    with PASSWORD_GATE.held(_many_signing_in):
        yield


MAX_PASSWORD_LENGTH = 128


class MaximumLengthValidator:
    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                )
                % {"max_length": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("Your password must contain at most %(max_length)d characters.") % {"max_length": self.max_length}

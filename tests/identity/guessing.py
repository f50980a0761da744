"""Many guesses at once against one account, each in its own thread and database connection.

The tests run these in-process on PostgreSQL. On SQLite they run them in a separate process
(``python -m tests.identity.guessing DATA_DIR``) against a database file, as gov21 runs: the
test suite's in-memory SQLite shares one cache between threads, which answers "table is locked"
where a file database waits its turn."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable

from django.db import connection
from django.utils import timezone

from gov21.core.errors import DomainError

THREADS = {"totp": 40, "activation": 40, "password": 12}  # fewer passwords: each check holds Argon2 memory


def in_parallel(count: int, attempt: Callable[[int], object]) -> Counter[str]:
    """Run ``attempt`` in ``count`` threads released at the same moment; the error codes they got."""
    barrier = threading.Barrier(count)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            attempt(index)
            outcome = "accepted"
        except DomainError as error:
            outcome = error.code
        except BaseException as error:  # a database error is an outcome the test must show
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _wrong_code(secret: str) -> str:
    """A six-digit code that is not valid at any step the provider accepts now."""
    from gov21.identity import totp

    now = timezone.now().timestamp()
    valid = {totp.code_at(secret, now + drift) for drift in (-90, -60, -30, 0, 30, 60, 90)}
    return next(code for code in (f"{n:06d}" for n in range(1000, 2000)) if code not in valid)


def guess(kind: str) -> tuple[Counter[str], Callable[[], object]]:
    """Guess ``kind`` (totp, password, activation) in parallel; the outcomes, and the right guess
    made once afterwards (which must be refused while the window lasts)."""
    from gov21.identity.services import (
        account_activate,
        activation_code_issue,
        password_authenticate,
        second_factor_verify,
    )
    from tests.identity.flows import OFFICER, PASSWORD, citizen
    from tests.registry.factories import register_person

    # Each kind from its own addresses, so that one kind's guesses do not use up another's.
    net = list(THREADS).index(kind) + 1
    guesser, owner = f"10.{net}.1.1", f"10.{net}.1.2"
    if kind == "activation":
        uin = register_person(OFFICER).uin
        code = activation_code_issue(uin=uin, officer=OFFICER)
        outcomes = in_parallel(
            THREADS[kind],
            lambda i: account_activate(uin=uin, code="AAAA-BBBB-CCCC", password=PASSWORD, source=guesser),
        )
        return outcomes, lambda: account_activate(uin=uin, code=code, password=PASSWORD, source=owner)
    person = citizen()
    if kind == "totp":
        wrong = _wrong_code(person.secret)
        outcomes = in_parallel(
            THREADS[kind], lambda i: second_factor_verify(account=person.account, code=wrong, source=guesser)
        )
        return outcomes, lambda: second_factor_verify(account=person.account, code=person.code(), source=owner)
    outcomes = in_parallel(
        THREADS[kind],
        lambda i: password_authenticate(identifier=person.identifier, password="not it", source=guesser),
    )
    return outcomes, lambda: password_authenticate(identifier=person.identifier, password=PASSWORD, source=owner)


def main() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from gov21.exchange.contracts import exchange_bootstrap

    call_command("migrate", verbosity=0)
    exchange_bootstrap()  # the counter reads the person's record through the exchange, as under `gov21 up`
    report: dict[str, dict[str, int]] = {}
    for kind in THREADS:
        outcomes, right = guess(kind)
        try:
            right()
            outcomes["right_guess_accepted"] += 1
        except DomainError as error:
            outcomes[f"right_guess_{error.code}"] += 1
        report[kind] = dict(outcomes)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()

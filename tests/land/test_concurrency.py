"""Transaction numbers are unique and gap-free when many are lodged at once (PostgreSQL: the
counter's row lock; SQLite serialises writers)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from gov21.land.models import Transaction
from gov21.land.records import InheritanceFacts
from tests.land.helpers import CLERK, first_register, owners, person, ref, square

WRITERS = 6
PER_WRITER = 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_lodging_gets_unique_gap_free_numbers() -> None:
    from gov21.land import services

    owner = person()
    number = first_register(square(0, 0), owners((owner, "1/1")))
    facts = InheritanceFacts(parcels=[number], deceased=ref(owner))
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(PER_WRITER):
                services.transaction_lodge(facts=facts, actor=CLERK)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    numbers = sorted(Transaction.objects.filter(kind="inheritance").values_list("number", flat=True))
    sequences = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert len(numbers) == WRITERS * PER_WRITER
    # The first registration took number 1.
    assert sequences == list(range(2, 2 + WRITERS * PER_WRITER))


@pytest.mark.django_db
def test_a_refused_lodging_gives_its_number_back() -> None:
    from gov21.core.errors import DomainError
    from gov21.land import services

    owner, stranger = person(), person()
    number = first_register(square(0, 0), owners((owner, "1/1")))
    with pytest.raises(DomainError):
        services.transaction_lodge(facts=InheritanceFacts(parcels=[number], deceased=ref(stranger)), actor=CLERK)
    tx = services.transaction_lodge(facts=InheritanceFacts(parcels=[number], deceased=ref(owner)), actor=CLERK)
    assert tx.number.endswith("-000002")

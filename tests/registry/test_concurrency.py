from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import LifeEvent
from gov21.registry.records import BirthFacts
from gov21.registry.uin_pool import uin_pool_refill
from tests.registry.factories import register_person

WRITERS = 8
PER_WRITER = 6
FAMILIES = ["Augustine", "Baptiste", "Charles", "Daniel", "Edwards", "Francis", "Gomez", "Henry"]
GIVEN = ["Ava", "Brianna", "Chloe", "Deja", "Esther", "Faith"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_get_gap_free_unique_numbers_and_uins(registrar: Principal) -> None:
    uin_pool_refill(target=200)
    mothers = [
        register_person(registrar, sex="F", born=date(1980, 1, 1) + timedelta(days=400 * i)) for i in range(WRITERS)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        try:
            barrier.wait()
            for j in range(PER_WRITER):
                services.register_birth(
                    birth=BirthFacts.model_validate(
                        {
                            "given_names": GIVEN[j],
                            "family_name": FAMILIES[index],
                            "sex": "F",
                            "birth_date": (date(2015, 1, 1) + timedelta(days=300 * j)).isoformat(),
                            "birth_parish": "XA-01",
                            "mother_uin": mothers[index].uin,
                        }
                    ),
                    actor=registrar,
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    births = LifeEvent.objects.filter(kind="birth", state="registered")
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in births.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == WRITERS + WRITERS * PER_WRITER
    uins = list(births.values_list("subject__uin", flat=True))
    assert len(set(uins)) == len(uins)

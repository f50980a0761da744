"""Locust users for ``bench/server_surge.py``: people asking for one page again and again, a few at
first, then a surge of many, then a few again. Not meant to be started by hand; in the environment:

- ``SURGE_PATH``: the page (``/`` or ``/healthz``), asked for as a browser does (``Accept: text/html``).
- ``SURGE_SHAPE``: ``users:seconds,users:seconds,...``, the phases of the load.
- A 503 with ``Retry-After`` is a success (the platform said when to come back) and the user
  waits that long before its next request, as a person reading the page does.
- ``SURGE_OUT``: where to write every answer: (seconds since the start, status, milliseconds,
  whether a 503 said when to come back).
"""

from __future__ import annotations

import json
import os
import time

import gevent
from locust import LoadTestShape, between, events, task
from locust.contrib.fasthttp import FastHttpUser

PATH = os.environ.get("SURGE_PATH", "/")
PHASES = [tuple(int(x) for x in part.split(":")) for part in os.environ.get("SURGE_SHAPE", "8:10").split(",")]
STARTED = [time.monotonic()]
ANSWERS: list[tuple[float, int, float, bool]] = []


class Person(FastHttpUser):
    wait_time = between(0.1, 0.3)
    connection_timeout = 30.0
    network_timeout = 30.0

    @task
    def page(self) -> None:
        began = time.monotonic()
        with self.client.get(PATH, headers={"Accept": "text/html"}, catch_response=True) as response:
            ms = (time.monotonic() - began) * 1000
            told = response.status_code == 503 and bool(response.headers.get("Retry-After"))
            ANSWERS.append((round(began - STARTED[0], 3), response.status_code, round(ms, 2), told))
            if response.status_code == 200 or told:
                response.success()
        if told:
            # A person told "try again in N seconds" reads that and comes back later, not at once.
            gevent.sleep(float(response.headers.get("Retry-After", "1")))


class Phases(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        for users, seconds in PHASES:
            if elapsed < seconds:
                return users, 1000.0
            elapsed -= seconds
        return None


@events.test_start.add_listener
def _start(environment: object, **kwargs: object) -> None:
    STARTED[0] = time.monotonic()


@events.quitting.add_listener
def _write(environment: object, **kwargs: object) -> None:
    with open(os.environ["SURGE_OUT"], "w", encoding="utf-8") as out:
        json.dump(ANSWERS, out)

"""Django's PostgreSQL backend, with a connection health check that costs no round trip (decision 0083).

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before the first statement of every
request by running ``SELECT 1`` on it: one more round trip to the server per request. On the most
frequent read (a page of features in a box, one short statement) that check doubled the round trips.

A connection that the server ended while it sat idle between requests (the server restarted, an
administrator or ``idle_session_timeout`` ended the session, a pooler went away) has something to
read on its socket: the server's last message and the end of the stream. So a kept connection that
is open, idle outside a transaction, and has nothing to read is usable without asking the server;
when anything is waiting on the socket (the end of a session, or a notification) the check runs
``SELECT 1`` as before, and a connection that fails it is closed and opened again. A server that
vanished without a word (a cut cable) is not seen by either check: ``SELECT 1`` would wait on it just
as the request's own statement does."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # set by Django's wrapper (not in its type stubs)

    def close_if_health_check_failed(self) -> None:
        if not self.health_check_done and self.quiet():
            self.health_check_done = True  # nothing is waiting on its socket: usable without asking
        super().close_if_health_check_failed()  # otherwise ``SELECT 1``, as Django does

    def quiet(self) -> bool:
        """Whether the connection is open, idle outside a transaction, and has nothing to read."""
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poll = select.poll()
        poll.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poll.poll(0)

"""A worker's way back to the database after its connection was lost.

When PostgreSQL restarts, or an administrator terminates a backend, or the network between
them drops, the server closes the worker's connection. Django does not open a new one by
itself: until the connection is closed on the client side too, every query on it fails.
The worker closes it between passes (`close_old_connections`); a sweep that has work in
hand (rows it claimed, an outcome to record) cannot wait that long and uses these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger("whistle.worker")

T = TypeVar("T")

# What a lost connection raises: the server's goodbye, then "the connection is closed".
LOST = (OperationalError, InterfaceError)


def reopen_if_lost() -> bool:
    """Close the connection when the server no longer answers on it, so that the next query
    opens a new one; tell whether the next query will run on a new connection.

    Inside a transaction nothing is done: the transaction is lost with its connection, and
    the block that opened it ends first (Django then drops the connection itself).
    """
    if connection.in_atomic_block:
        return False
    if connection.connection is None:
        return True
    if connection.is_usable():
        return False
    log.warning("the database connection was lost; opening a new one")
    connection.close()
    return True


def once_more_if_lost(write: Callable[[], T]) -> T:
    """Run ``write``; if the connection was lost under it, run it once more on a new one.

    Only for writes that may run twice: a conditional update, whose second run changes
    nothing if the first one was committed before its answer was lost.
    """
    try:
        return write()
    except LOST:
        if not reopen_if_lost():
            raise
    return write()

"""The clock's batch paths against their per-row twins: sweep the same due rows both ways, each inside a
savepoint that is rolled back after capturing what the sweep left, so both start from the same rows."""

from collections.abc import Callable
from dataclasses import replace

from django.db import transaction

from anshin.core import timers


def sweep_and_capture(capture: Callable[[], dict], *, per_row: bool = False) -> tuple[list[str], dict]:
    """`timers.sweep()` and `capture()` of what it left, rolled back. `per_row`: without any batch path, every
    due row through its per-row handler."""
    saved = list(timers._registry)
    with transaction.atomic():
        if per_row:
            timers._registry[:] = [replace(kind, settle_batch=None) for kind in saved]
        try:
            done = timers.sweep()
        finally:
            timers._registry[:] = saved
        captured = capture()
        transaction.set_rollback(True)
    return done, captured

"""The sweeper behind `manage.py tick`: finds due timers and reminders, settles each in its own transaction.

Each deal type registers how to settle one row by id. Settling locks the row with SKIP LOCKED (PostgreSQL),
re-checks that it is still due, and applies the SYSTEM transition through the flow engine, so several
sweepers — and a user acting at the same instant — can never settle a deal twice.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from anshin import rules
from anshin.core import clock

# Rows per transaction on a kind's batch path: large enough that the fixed queries of a batch cost little
# per row, small enough that a batch's locks and its memory stay modest.
SETTLE_BATCH_SIZE = 500


@dataclass(frozen=True)
class TimedKind:
    model: type
    settle: Callable[[int], str | None]  # pk -> description of what happened, or None if nothing
    remind: Callable[[int], str | None] | None  # None: the kind has no reminders
    # limit -> descriptions: settles up to `limit` due rows of the commonest case in one transaction, leaving
    # the rest to `settle`; empty when it found nothing to settle.
    settle_batch: Callable[[int], list[str]] | None = None


_registry: list[TimedKind] = []


def register(model, *, settle, remind=None, settle_batch=None) -> None:
    if not any(k.model is model for k in _registry):
        _registry.append(TimedKind(model, settle, remind, settle_batch))


def lock_for_update(queryset, *related: str):
    """Row lock that skips rows another sweeper holds (PostgreSQL); SQLite serialises writers anyway. `related`:
    rows joined by select_related to lock (and skip on) too."""
    return queryset.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked,
                                      of=("self", *related))


def due_pks(queryset, field: str, batch: int):
    """Each pk of `queryset` whose `field` has come, once, fetched in batches until none is left (a row the
    handler could not settle — locked by another sweeper, not due after all — is not offered again)."""
    seen: set[int] = set()
    while True:
        pks = [
            pk
            for pk in queryset.filter(**{f"{field}__lte": clock.now()})
            .order_by(field, "pk")
            .values_list("pk", flat=True)[: batch + len(seen)]
            if pk not in seen
        ][:batch]
        if not pks:
            return
        for pk in pks:
            seen.add(pk)
            yield pk


def sweep(batch: int = rules.TICK_BATCH_SIZE) -> list[str]:
    """One pass over every registered kind, in batches, until nothing is due. Returns what was done. A kind's
    batch path runs first; its row-by-row handler then settles whatever the batches left."""
    done: list[str] = []
    for kind in _registry:
        if kind.settle_batch is not None:
            while settled := kind.settle_batch(SETTLE_BATCH_SIZE):
                done.extend(settled)
        for field, handler in (("due_at", kind.settle), ("remind_at", kind.remind)):
            if handler is None:
                continue
            for pk in due_pks(kind.model.objects.all(), field, batch):
                result = handler(pk)
                if result:
                    done.append(result)
    return done

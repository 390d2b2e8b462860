"""`tick`'s fast path for its commonest timer: deemed acceptance (検収 silence → accepted), many contracts per
transaction with bulk writes, and exactly the effects of the per-row path (`services._settle` → `_effects`):
state and timer, accepted_at, audit event, release entry, system message and its receipts, notifications,
review window. Texts, dedupe keys and ledger lines come from the helpers the per-row path uses.

A batch is claimed with one `FOR UPDATE SKIP LOCKED` (PostgreSQL), so two sweepers take disjoint batches, and a
user acting at the same instant either settles the contract first (the batch skips it) or waits and finds it
accepted. Anything unusual — a pending termination or date-change request, a release already posted, an escrow
that does not hold the amount — is left to the per-row path, which runs after the batches."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef

from anshin.accounts.figures import figures_touched_together
from anshin.accounts.models import name_only
from anshin.contracts.models import Contract, TerminationRequest
from anshin.contracts.services import _notices, _text, release_entry, release_net
from anshin.core import clock, flows, timers
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.deals.models import DateChangeRequest
from anshin.ledger.models import Account, JournalEntry
from anshin.ledger.services import entries_post_new, escrow_code
from anshin.messaging.services import messages_post_system
from anshin.notifications.services import notify_many
from anshin.reviews.services import review_windows_open_for_contracts

ACTION = "deem_accept"


def contracts_deem_accept_batch(limit: int) -> list[str]:
    """Settle up to `limit` due deemed acceptances in one transaction. Returns what was done, like the per-row
    path ("contract 12: deem_accept"); empty when nothing plain was left to claim."""
    now = clock.now()
    with transaction.atomic():
        # The threads are locked with their contracts, before anything else: someone posting in one holds its
        # thread and then marks figures stale, which this batch does before writing the thread (it is skipped).
        claimed = list(
            timers.lock_for_update(Contract.objects.select_related("client", "worker", "thread")
                                   .defer(*name_only("client"), *name_only("worker")), "thread")
            .filter(state="delivered", timer_action=ACTION, due_at__lte=now, thread__isnull=False)
            .exclude(Exists(_pending_terminations()))
            .exclude(Exists(_pending_date_changes()))
            .order_by("due_at", "pk")[:limit]
        )
        contracts = _plain(claimed)
        if not contracts:
            return []
        # Rows other transactions lock too are written last, in the order every settlement locks them (figures,
        # then accounts), so a second sweeper whose batch shares a person, or the revenue account that every
        # release moves, waits only for this batch's last statements and commit, never for all of it.
        with figures_touched_together():
            flows.apply_many(contracts, ACTION, actor=Actor.SYSTEM, also={"accepted_at": now})  # as `_release`
            texts = [_text(c, ACTION, net=yen(release_net(c))) for c in contracts]
            messages_post_system([(c.thread, text) for c, text in zip(contracts, texts, strict=True)])
            accepted = [n for c, text in zip(contracts, texts, strict=True) for n in _notices(c, ACTION, text)]
            notify_many(accepted + review_windows_open_for_contracts(contracts))
        entries_post_new([release_entry(c) for c in contracts])
    return [f"contract {c.pk}: {ACTION}" for c in contracts]


def _pending_terminations():
    return TerminationRequest.objects.filter(contract=OuterRef("pk"), state="pending")


def _pending_date_changes():
    return DateChangeRequest.objects.filter(
        subject_type=ContentType.objects.get_for_model(Contract), subject_id=OuterRef("pk"), state="pending"
    )


def _plain(claimed: list[Contract]) -> list[Contract]:
    """The claimed contracts whose settlement is plain, read again now that they are locked (a request made
    just before the claim may not have been visible to it; requests are only made under the contract lock)."""
    if not claimed:
        return []
    ids = [c.pk for c in claimed]
    unusual = set(TerminationRequest.objects.filter(contract_id__in=ids, state="pending")
                  .values_list("contract_id", flat=True))
    unusual |= set(DateChangeRequest.objects.filter(
        subject_type=ContentType.objects.get_for_model(Contract), subject_id__in=ids, state="pending"
    ).values_list("subject_id", flat=True))
    keys = {c.pk: release_entry(c)["key"] for c in claimed}
    released = set(JournalEntry.objects.filter(idempotency_key__in=list(keys.values()))
                   .values_list("idempotency_key", flat=True))
    escrow = dict(Account.objects.filter(code__in=[escrow_code(c.ledger_ref) for c in claimed])
                  .values_list("code", "balance"))
    return [
        c for c in claimed
        if c.pk not in unusual and keys[c.pk] not in released
        and escrow.get(escrow_code(c.ledger_ref)) == c.amount
    ]

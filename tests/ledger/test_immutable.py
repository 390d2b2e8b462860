"""History cannot be rewritten below the ORM: triggers refuse UPDATE and DELETE of postings, journal entries
and audit events (SQLite and PostgreSQL), and on PostgreSQL an unbalanced entry cannot be committed."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from anshin.core import audit
from anshin.core.models import AuditEvent
from anshin.ledger.models import Account, JournalEntry, Posting
from anshin.ledger.services import GATEWAY, Line, account_get_or_create, entry_post, escrow_code

ESCROW = escrow_code("contract:1")


def fund(amount: int = 30_000):
    entry, _ = entry_post(key="contract:1:fund", kind="fund", ref="contract:1",
                          lines=[Line(GATEWAY, -amount), Line(ESCROW, amount)])
    return entry


def refused(sql_or_call):
    """Run one statement in its own savepoint and return the database's refusal."""
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        if callable(sql_or_call):
            sql_or_call()
        else:
            with connection.cursor() as cursor:
                cursor.execute(*sql_or_call)
    assert "append-only" in str(error.value)
    return error.value


@pytest.mark.django_db
def test_postings_cannot_be_updated_or_deleted():
    entry = fund()
    posting = entry.postings.first()
    refused(lambda: Posting.objects.filter(pk=posting.pk).update(amount=1))
    refused(lambda: Posting.objects.filter(pk=posting.pk).delete())
    refused(("UPDATE ledger_posting SET amount = amount * 2 WHERE entry_id = %s", [entry.pk]))
    refused(("DELETE FROM ledger_posting WHERE entry_id = %s", [entry.pk]))
    posting.amount = 1
    refused(lambda: posting.save())
    assert sorted(Posting.objects.filter(entry=entry).values_list("amount", flat=True)) == [-30_000, 30_000]


@pytest.mark.django_db
def test_journal_entries_cannot_be_updated_or_deleted():
    entry = fund()
    refused(lambda: JournalEntry.objects.filter(pk=entry.pk).update(memo="書き換え"))
    refused(("UPDATE ledger_journalentry SET kind = 'refund' WHERE id = %s", [entry.pk]))
    refused(("DELETE FROM ledger_journalentry WHERE id = %s", [entry.pk]))
    entry.refresh_from_db()
    assert (entry.kind, entry.memo) == ("fund", "")


@pytest.mark.django_db
def test_audit_events_cannot_be_updated_or_deleted(client_user):
    event = audit.record(subject=client_user, action="login", actor=client_user, payload={"ip": "127.0.0.1"})
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(action="nothing happened"))
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    refused(("DELETE FROM core_auditevent WHERE id = %s", [event.pk]))
    refused(("UPDATE core_auditevent SET actor_id = NULL WHERE id = %s", [event.pk]))
    event.refresh_from_db()
    assert (event.action, event.actor) == ("login", client_user)
    assert event.subject_type == ContentType.objects.get_for_model(client_user)


@pytest.mark.django_db
def test_new_entries_can_still_be_appended_after_refusals():
    fund()
    refused(lambda: Posting.objects.all().delete())
    entry_post(key="more", kind="fund", lines=[Line(GATEWAY, -1_000), Line(ESCROW, 1_000)])
    assert Account.objects.get(code=ESCROW).balance == 31_000
    assert Posting.objects.count() == 4


# --- PostgreSQL: balance checked at commit ---------------------------------------------------------------------

def _raw_entry(cursor, key: str) -> int:
    cursor.execute(
        "INSERT INTO ledger_journalentry (idempotency_key, kind, memo, ref, payload_hash, created_at) "
        "VALUES (%s, 'fund', '', 'raw', 'x', now()) RETURNING id", [key])
    return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_commit_an_unbalanced_entry_written_in_raw_sql():
    gateway, escrow = account_get_or_create(GATEWAY), account_get_or_create(ESCROW)
    with pytest.raises(DatabaseError) as error:
        with transaction.atomic(), connection.cursor() as cursor:
            entry_id = _raw_entry(cursor, "raw-unbalanced")
            cursor.execute("INSERT INTO ledger_posting (entry_id, account_id, amount) VALUES (%s, %s, %s)",
                           [entry_id, escrow.pk, 30_000])
            cursor.execute("INSERT INTO ledger_posting (entry_id, account_id, amount) VALUES (%s, %s, %s)",
                           [entry_id, gateway.pk, -29_999])
    assert "not balanced" in str(error.value)
    assert not JournalEntry.objects.filter(idempotency_key="raw-unbalanced").exists()
    assert not Posting.objects.exists()

    # The same entry, balanced, commits: the trigger checks balance, it does not forbid raw inserts.
    with transaction.atomic(), connection.cursor() as cursor:
        entry_id = _raw_entry(cursor, "raw-balanced")
        cursor.execute("INSERT INTO ledger_posting (entry_id, account_id, amount) VALUES (%s, %s, %s), (%s, %s, %s)",
                       [entry_id, escrow.pk, 30_000, entry_id, gateway.pk, -30_000])
    assert Posting.objects.filter(entry_id=entry_id).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_an_unbalanced_entry_written_through_the_orm():
    escrow = account_get_or_create(ESCROW)
    with pytest.raises(DatabaseError), transaction.atomic():
        entry = JournalEntry.objects.create(idempotency_key="orm-unbalanced", kind="fund", payload_hash="x",
                                            created_at="2026-04-01T10:00:00+09:00")
        Posting.objects.create(entry=entry, account=escrow, amount=500)
    assert not JournalEntry.objects.exists()

"""Every insert pays for every index of its table: on the tables the clock's batches and message sends write,
no plain index may be a leading part of another (that one serves its reads), nor be the LIKE twin of a key
nobody searches by prefix (migrations 0003/0005 "no redundant indexes")."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WRITTEN_IN_BULK = ("contracts_contract", "core_auditevent", "ledger_journalentry", "ledger_posting",
                   "messaging_message", "messaging_receipt", "notifications_notification")
LIKE_KEPT = {"contracts_contract_state_48be54c8_like"}  # the flow state's, shared by every flow model
COVERED_KEPT = {"messaging_message_thread_id_f689027f"}  # the planner needs it: see Message.thread


def _indexes(table: str) -> list[tuple[str, bool, list[str], str]]:
    """(name, unique, columns, definition) of the table's indexes other than its primary key."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT i.relname, x.indisunique,
                   array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o),
                   pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = %s AND NOT x.indisprimary""", [table])
        return cursor.fetchall()


@pytest.mark.parametrize("table", WRITTEN_IN_BULK)
def test_no_index_is_covered_by_another(table):
    indexes = _indexes(table)
    covered = [
        name for name, unique, columns, definition in indexes
        if not unique and "WHERE" not in definition and name not in COVERED_KEPT and any(
            other != name and len(other_columns) > len(columns) and other_columns[:len(columns)] == columns
            for other, _, other_columns, _ in indexes)
    ]
    assert covered == []


@pytest.mark.parametrize("table", WRITTEN_IN_BULK)
def test_no_like_index_unless_searched_by_prefix(table):
    likes = [name for name, _, _, definition in _indexes(table) if "pattern_ops" in definition]
    assert set(likes) <= LIKE_KEPT

"""`manage.py loadgen` on PostgreSQL at a tiny size: the counts asked for, every state of the contract and order
flows, a ledger that adds up, jobs as the deadline clock leaves them, the same rows for the same seed, and due
timers that `tick` settles once each."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from anshin.contracts.flow import CONTRACT_FLOW
from anshin.core import loadgen, timers
from anshin.jobs import selectors
from anshin.jobs.models import Job
from anshin.ledger.models import JournalEntry
from anshin.orders.flow import ORDER_FLOW

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = {"users": 120, "jobs": 100, "applications": 300, "contracts": 120, "orders": 60, "messages": 3_000,
         "ledger_entries": 700, "due_timers": 15}


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def checksum() -> str:
    return rows("SELECT md5(string_agg(concat_ws('|', id, state, client_id, title), ',' ORDER BY id)) "
                "FROM jobs_job")[0][0] + rows(
        "SELECT md5(string_agg(concat_ws('|', id, thread_id, sender_id, kind, body), ',' ORDER BY id)) "
        "FROM messaging_message")[0][0] + rows(
        "SELECT md5(string_agg(concat_ws('|', id, state, client_id, worker_id, amount), ',' ORDER BY id)) "
        "FROM contracts_contract")[0][0]


def load(tmp_path, seed=7, reset=False) -> dict:
    flags = [f"--{name.replace('_', '-')}={n}" for name, n in SIZES.items()]
    manifest = tmp_path / "loadgen.json"
    call_command("loadgen", f"--seed={seed}", *flags, *(["--reset"] if reset else []), f"--manifest={manifest}")
    return json.loads(manifest.read_text())


def test_loadgen_counts_states_ledger_determinism_and_tick(tmp_path):
    manifest = load(tmp_path)
    assert {k: manifest["sizes"][k] for k in SIZES} == SIZES
    assert rows("SELECT count(*) FROM messaging_message")[0][0] == SIZES["messages"]
    assert rows("SELECT count(*) FROM ledger_journalentry")[0][0] == SIZES["ledger_entries"]
    assert {s for (s,) in rows("SELECT DISTINCT state FROM contracts_contract")} == set(CONTRACT_FLOW.states)
    assert {s for (s,) in rows("SELECT DISTINCT state FROM orders_order")} == set(ORDER_FLOW.states)

    # The ledger: every entry balanced, balances = sums of postings, nothing below zero but the gateway,
    # escrow of open contracts = their amount.
    assert rows("SELECT count(*) FROM (SELECT entry_id FROM ledger_posting GROUP BY entry_id "
                "HAVING sum(amount) <> 0) x")[0][0] == 0
    assert rows("SELECT count(*) FROM ledger_account a LEFT JOIN (SELECT account_id, sum(amount) s FROM "
                "ledger_posting GROUP BY 1) p ON p.account_id = a.id WHERE a.balance <> coalesce(p.s, 0)")[0][0] == 0
    assert rows("SELECT count(*) FROM ledger_account WHERE balance < 0 AND NOT allow_negative")[0][0] == 0
    assert rows("SELECT count(*) FROM contracts_contract c LEFT JOIN ledger_account a "
                "ON a.code = 'escrow:contract:' || c.id WHERE c.state IN ('funded', 'delivered', "
                "'revision_requested', 'disputed') AND a.balance IS DISTINCT FROM c.amount")[0][0] == 0
    assert rows("SELECT count(*) FROM contracts_contract c JOIN ledger_journalentry e "
                "ON e.ref = 'contract:' || c.id AND e.kind = 'release' WHERE c.state = 'accepted'")[0][0] == \
        rows("SELECT count(*) FROM contracts_contract WHERE state = 'accepted'")[0][0]

    # The persona of the benchmark.
    persona = manifest["persona"]
    assert rows(f"SELECT count(*) FROM messaging_message WHERE thread_id = {persona['thread_id']}")[0][0] == 200
    assert rows(f"SELECT client_id, worker_id FROM contracts_contract WHERE id = {persona['contract_id']}")[0] == \
        (persona["client_id"], persona["worker_id"])

    # Jobs as the clock would have left them (JOB_FLOW): none open past the end of its deadline day, each open
    # one armed to close then, and the persona's jobs open and listed.
    assert rows("SELECT count(*) FROM jobs_job WHERE state = 'open' AND (timer_action <> 'expire' OR due_at <> "
                "((application_deadline + 1)::timestamp AT TIME ZONE 'Asia/Tokyo') OR due_at <= now())")[0][0] == 0
    assert rows("SELECT count(*) FROM jobs_job WHERE state = 'closed' AND (due_at IS NOT NULL OR timer_action <> '')"
                )[0][0] == 0
    assert rows("SELECT count(*) FROM jobs_job WHERE state = 'open' AND application_deadline < "
                "(now() AT TIME ZONE 'Asia/Tokyo')::date")[0][0] == 0
    assert rows("SELECT count(*) FROM jobs_job WHERE state = 'closed' AND application_deadline < "
                "(now() AT TIME ZONE 'Asia/Tokyo')::date")[0][0] > 0
    persona_jobs = Job.objects.filter(client_id=persona["client_id"])
    assert persona_jobs.exists() and not persona_jobs.exclude(state="open").exists()
    listed = set(selectors.job_search().values_list("pk", flat=True))
    assert set(persona_jobs.values_list("pk", flat=True)) <= listed

    # Same seed, same rows.
    first = checksum()
    load(tmp_path, reset=True)
    assert checksum() == first

    # The sweeper settles exactly the due deemed acceptances, once each, and nothing else is due.
    due = {pk for (pk,) in rows("SELECT id FROM contracts_contract WHERE due_at <= now()")}
    assert len(due) == SIZES["due_timers"] == manifest["due_contract_ids_count"]
    done = timers.sweep()
    assert sorted(done) == sorted(f"contract {pk}: deem_accept" for pk in due)
    assert timers.sweep() == []
    released = JournalEntry.objects.filter(kind="release", ref__in=[f"contract:{pk}" for pk in due])
    assert released.count() == len(due)
    assert rows("SELECT count(*) FROM contracts_contract WHERE id = ANY(%s) AND state = 'accepted'",
                [sorted(due)])[0][0] == len(due)


def test_loadgen_refuses_a_database_with_data(tmp_path):
    load(tmp_path)
    with pytest.raises(Exception, match="already holds data"):
        load(tmp_path)


def test_sizes_scale():
    assert loadgen.sizes_for(0.1)["messages"] == 200_000
    assert loadgen.sizes_for(0.1, users=5)["users"] == 5

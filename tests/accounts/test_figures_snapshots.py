"""Profile figures are read from a stored snapshot per person; what changes them marks it stale, and the
clock refreshes stale and day-old snapshots off the request path: pages serve the snapshot they have (a busy
person's figures take seconds to compute), an operator's view computes stale ones."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from anshin import rules
from anshin.accounts.figures import figures_of, figures_refresh_due
from anshin.accounts.models import FiguresSnapshot
from anshin.messaging.services import message_send
from tests.accounts.test_figures import NOW, H, thread


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_second_read_is_one_query_on_the_snapshot(frozen, worker, make_user, django_assert_num_queries):
    t = thread(make_user("a"), worker)
    message_send(thread=t, sender=t.members.exclude(user=worker).get().user, body="はじめまして")
    assert figures_of(worker).response_total == 0  # younger than 24 h and unanswered: not counted yet
    assert FiguresSnapshot.objects.filter(user=worker, stale=False).exists()
    with django_assert_num_queries(1):
        figures_of(worker)


def test_a_reply_marks_both_snapshots_stale_and_the_clock_counts_it_pages_never_compute_it(
        frozen, worker, make_user, django_assert_num_queries):
    a = make_user("a")
    t = thread(a, worker)
    message_send(thread=t, sender=a, body="はじめまして")
    before = figures_of(worker)
    assert (before.response_total, before.reply_count) == (0, 0)
    frozen.shift(2 * H)
    message_send(thread=t, sender=worker, body="よろしくお願いします")
    assert set(FiguresSnapshot.objects.filter(stale=True).values_list("user_id", flat=True)) >= {worker.pk}
    with django_assert_num_queries(1):  # the stale snapshot, as it is: nothing computed on the page
        assert figures_of(worker).reply_count == 0
    assert figures_refresh_due() >= 1
    after = figures_of(worker)
    assert (after.response_answered, after.response_total, after.reply_count, after.reply_median) == (1, 1, 1, 2 * H)


def test_an_operator_sees_figures_computed_after_the_latest_event(frozen, client_user, worker):
    from anshin.contracts.services import contract_simple_action
    from tests import factories

    contract = factories.contract(client_user, worker, "delivered")
    assert figures_of(worker).completed_as_worker == 0
    contract_simple_action(contract_id=contract.pk, user=client_user, action="accept")
    assert FiguresSnapshot.objects.get(user=worker).stale
    assert figures_of(worker).completed_as_worker == 0  # the page: the snapshot until the clock refreshes it
    assert figures_of(worker, fresh=True).completed_as_worker == 1
    assert not FiguresSnapshot.objects.get(user=worker).stale  # and stored for the pages


def test_a_day_old_snapshot_is_computed_again_for_an_operator_and_by_the_clock(frozen, worker, make_user):
    a = make_user("a")
    t = thread(a, worker)
    message_send(thread=t, sender=a, body="はじめまして")
    assert figures_of(worker).response_total == 0
    frozen.shift(rules.FIGURES_MAX_AGE + timedelta(seconds=1))  # nothing happened, but the 24 h have passed
    assert figures_of(worker).response_total == 0
    assert (figures_of(worker, fresh=True).response_total, figures_of(worker).response_rate) == (1, 0)


def test_the_clock_refreshes_stale_and_old_snapshots_oldest_first_in_batches(frozen, worker, make_user):
    people = [make_user(f"p{n}") for n in range(3)]
    for person in people:
        figures_of(person)
        frozen.shift(H)
    FiguresSnapshot.objects.filter(user=people[2]).update(stale=True)
    assert figures_refresh_due(batch=1) == 1  # the stale one (newest) waits behind nothing older that is due
    assert not FiguresSnapshot.objects.filter(stale=True).exists()
    assert figures_refresh_due() == 0
    frozen.shift(rules.FIGURES_REFRESH_AFTER)
    assert figures_refresh_due(batch=2) == 2
    refreshed = set(FiguresSnapshot.objects.filter(computed_at=NOW + 3 * H + rules.FIGURES_REFRESH_AFTER)
                    .values_list("user_id", flat=True))
    assert refreshed == {people[0].pk, people[1].pk}  # the oldest first
    frozen.shift(timedelta(seconds=1))  # now the third is older than FIGURES_REFRESH_AFTER too
    out = StringIO()
    call_command("tick", stdout=out)
    assert "figures: 1 profile(s) refreshed" in out.getvalue()


def test_the_job_list_never_computes_it_shows_pending_until_the_clock_has(frozen, client_user, worker):
    from tests import factories
    from tests.web.helpers import login, text

    factories.job(client_user, title="会社案内の翻訳")
    factories.contract(client_user, worker, "funded")
    browser = login(worker)
    page = text(browser.get("/"))
    row = page[page.index("会社案内の翻訳"):]
    assert 'data-testid="figures-pending"' in row and "実績を集計中です" in row
    assert 'data-testid="brief-funding-rate"' not in row
    assert "実績を集計中です" in text(browser.get("/"))  # still pending: the list did not compute it either
    call_command("tick", stdout=StringIO())  # the clock computes the placeholder
    row = text(browser.get("/"))
    row = row[row.index("会社案内の翻訳"):]
    assert "実績を集計中です" not in row and 'data-testid="brief-funding-rate"' in row


def test_a_snapshot_keeps_a_summary_of_the_reply_times_not_each_one(frozen, worker, make_user):
    """A busy person's profile must not read back every reply they ever wrote: the snapshot holds the count,
    the median and the histogram, and reads back as the same figures."""
    for n in range(12):
        t = thread(make_user(f"a{n}"), worker)
        message_send(thread=t, sender=t.members.exclude(user=worker).get().user, body="はじめまして")
        frozen.shift((n + 1) * 10 * 60)
        message_send(thread=t, sender=worker, body="よろしくお願いします")
    computed = figures_of(worker)
    stored = FiguresSnapshot.objects.get(user=worker).data["replies"]
    assert stored == {"count": 12, "median": computed.reply_median.total_seconds(),
                      "buckets": [n for _, n in computed.reply_histogram]}
    assert computed.reply_count == 12 and sum(stored["buckets"]) == 12
    assert figures_of(worker) == computed  # read back from the snapshot

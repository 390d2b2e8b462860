"""Progress reports and delay notices are first-class: they show on the deal page itself, not only in the thread
(seed 004: telling the client early about delays is what makes a worker trusted)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.core import clock
from anshin.messaging import services as messaging
from tests import factories
from tests.web.helpers import login, text


def report(thread, worker, n=1):
    for i in range(n):
        messaging.message_send_progress(thread=thread, sender=worker, percent=min(100, 10 * (i + 1)),
                                        next_date=clock.today() + timedelta(days=3), comment=f"順調です{i}")
    messaging.message_send_delay(thread=thread, sender=worker, late_item="3枚目の写真",
                                 new_date=clock.today() + timedelta(days=5), reason="素材の到着待ちです")


def test_contract_page_shows_progress_and_delay_to_the_client(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    report(c.thread, worker)
    page = text(login(client_user).get(f"/contracts/{c.pk}/"))
    assert "進捗報告・遅延のお知らせ" in page
    assert "10%" in page and "順調です0" in page
    assert "3枚目の写真" in page and "素材の到着待ちです" in page


def test_order_page_shows_progress_and_delay_to_the_buyer(make_user):
    buyer, seller = make_user("buyer"), make_user("seller")
    o = factories.order(buyer, seller, state="in_progress")
    report(o.thread, seller)
    page = text(login(buyer).get(f"/orders/{o.pk}/"))
    assert "3枚目の写真" in page and "順調です0" in page


def test_deal_updates_cost_one_query_however_many(client_user, worker):
    few, many = (factories.contract(client_user, worker, state="funded") for _ in range(2))
    report(few.thread, worker, n=2)
    report(many.thread, worker, n=20)
    browser = login(client_user)
    counts = []
    for c in (few, many):
        browser.get(f"/contracts/{c.pk}/")  # settle presence writes etc. outside the measurement
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(f"/contracts/{c.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]

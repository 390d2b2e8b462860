"""The payout pages and the notification centre cost the same number of queries for 2 rows as for 12."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.notifications.services import notify
from anshin.payouts import services
from tests.web.helpers import login


def _count(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_withdrawal_list_and_the_operators_queue_do_not_grow_with_rows(worker, earned, bank, operator):
    def request(n):
        for _ in range(n):
            services.withdrawal_request(user=worker, amount=1_000)

    mine, ops = login(worker), login(operator)
    request(2)
    mine.get("/payouts/"), ops.get("/ops/withdrawals/")
    few = (_count(mine, "/payouts/"), _count(ops, "/ops/withdrawals/"))
    request(10)
    assert (_count(mine, "/payouts/"), _count(ops, "/ops/withdrawals/")) == few


def test_the_notification_centre_does_not_grow_with_rows(worker):
    def tell(start, n):
        for k in range(start, start + n):
            notify(user=worker, kind="contract.fund", title=f"お知らせ{k}", dedupe_key=f"count:{k}", url="/")

    browser = login(worker)
    tell(0, 2)
    browser.get("/notifications/")
    few = _count(browser, "/notifications/")
    tell(2, 10)
    assert _count(browser, "/notifications/") == few

"""The dashboard's figures (open and overdue items per queue, money in escrow, what workers can withdraw)
and the risk panel's signals, checked against fixtures whose numbers are known by construction."""

import re
from datetime import timedelta

import pytest

from anshin.core import clock
from anshin.core.money import tiered_fee
from anshin.trust.models import GuardHold, Report
from tests import factories
from tests import ops as build
from tests.web.helpers import login, text


@pytest.fixture
def api_as(db):
    return build.api_client


def _testid(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, testid
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- dashboard ----------------------------------------------------------------------------------------------

def test_escrow_and_worker_balances_follow_the_ledger(client_user, worker, operator, api_as):
    api = api_as(operator)
    _status, start = api.get("/api/ops/dashboard")
    assert (start["escrow_total"], start["worker_balance_total"]) == (0, 0)

    contract = factories.contract(client_user, worker, "funded", amount=30_000)
    order = factories.order(client_user, worker, "in_progress")
    _status, body = api.get("/api/ops/dashboard")
    assert body["escrow_total"] == 30_000 + order.total
    assert body["worker_balance_total"] == 0
    page = text(login(operator).get("/ops/"))
    assert _testid(page, "escrow-total") == f"¥{30_000 + order.total:,}"

    from anshin.contracts.services import contract_deliver, contract_simple_action

    contract_deliver(contract_id=contract.pk, user=worker, body="納品します。")
    contract_simple_action(contract_id=contract.pk, user=client_user, action="accept")
    _status, body = api.get("/api/ops/dashboard")
    assert body["escrow_total"] == order.total  # the contract's escrow is 0 once paid out
    assert body["worker_balance_total"] == 30_000 - tiered_fee(30_000)
    page = text(login(operator).get("/ops/"))
    assert _testid(page, "available-total") == f"¥{30_000 - tiered_fee(30_000):,}"
    assert _testid(page, "payouts-total") == "¥0"  # nothing asked for yet: no pending payouts
    assert "受注者残高（出金可能）" in page


def test_open_and_overdue_counts_per_queue_after_the_clock_passes_the_due_time(
        client_user, worker, operator, api_as, time_machine):
    _contract, dispute_item = build.dispute(client_user, worker)
    _permit, permit_item = build.permit(client_user, worker)
    build.plain_item(worker, kind="report", due_in=timedelta(days=30), concerns=worker)
    api = api_as(operator)

    _status, body = api.get("/api/ops/dashboard")
    counts = {q["kind"]: (q["open"], q["overdue"]) for q in body["queues"]}
    assert counts == {"permit": (1, 0), "dispute": (1, 0), "termination_escalation": (0, 0),
                      "nudge_escalation": (0, 0), "report": (1, 0), "guard_flag": (0, 0),
                      "withdrawal": (0, 0)}
    assert (body["open_total"], body["overdue_total"]) == (3, 0)

    latest_due = max(dispute_item.due_at, permit_item.due_at)
    time_machine.move_to(latest_due + timedelta(minutes=1), tick=False)
    _status, body = api.get("/api/ops/dashboard")
    counts = {q["kind"]: (q["open"], q["overdue"]) for q in body["queues"]}
    assert counts["permit"] == (1, 1) and counts["dispute"] == (1, 1) and counts["report"] == (1, 0)
    assert body["overdue_total"] == 2
    page = text(login(operator).get("/ops/"))
    assert _testid(page, "overdue-permit") == "1"
    assert _testid(page, "overdue-report") == "0"
    assert _testid(page, "open-total") == "3"

    # a decided item leaves the counts
    from anshin.trust.permits import permit_decide

    permit_decide(permit_id=_permit.pk, operator=operator, approve=False, note="目的が不明確")
    _status, body = api.get("/api/ops/dashboard")
    counts = {q["kind"]: (q["open"], q["overdue"]) for q in body["queues"]}
    assert counts["permit"] == (0, 0)


def test_my_items_on_the_dashboard(client_user, worker, operator, api_as):
    _contract, item = build.dispute(client_user, worker)
    build.permit(client_user, worker)
    from anshin.ops.services import queue_item_assign

    queue_item_assign(item_id=item.pk, operator=operator, assignee_id=operator.pk)
    _status, body = api_as(operator).get("/api/ops/dashboard")
    assert [i["id"] for i in body["my_items"]] == [item.pk]
    page = text(login(operator).get("/ops/"))
    mine = page[page.index('data-testid="my-items"'):]
    assert f"/ops/items/{item.pk}/" in mine and mine.count('data-testid="queue-row"') == 1


# --- risk panel ---------------------------------------------------------------------------------------------

def hand_built(client_user, worker, operator, make_user):
    """A client with known signals (see the numbers in the test)."""
    from anshin.trust.permits import permit_decide, permit_request, permit_revoke
    from anshin.trust.reports import report_create
    from anshin.trust.standing import account_restrict

    now = clock.now()
    type(client_user).objects.filter(pk=client_user.pk).update(date_joined=now - timedelta(days=40, hours=1))
    funded_1 = factories.contract(client_user, worker, "funded", amount=30_000)
    funded_2 = factories.contract(client_user, worker, "funded", amount=50_000)
    factories.contract(client_user, worker, "awaiting_funding")  # accepted by the worker, never funded
    factories.contract(client_user, worker, "offered")  # not accepted (yet)
    order = factories.order(client_user, worker, "purchased")
    # three permits requested: one denied, one revoked after approval, one pending
    denied = permit_request(thread_id=funded_1.thread.pk, user=client_user, tool="line", purpose="連絡のため")
    permit_decide(permit_id=denied.pk, operator=operator, approve=False, note="否認")
    revoked = permit_request(thread_id=funded_2.thread.pk, user=client_user, tool="zoom", purpose="打ち合わせ")
    permit_decide(permit_id=revoked.pk, operator=operator, approve=True, note="承認")
    permit_revoke(permit_id=revoked.pk, operator=operator, note="取り消し")
    permit_request(thread_id=funded_1.thread.pk, user=client_user, tool="chatwork", purpose="再申請")
    # two reports received, one of them 100 days ago
    for n, age in ((1, 0), (2, 100)):
        reporter = make_user(f"reporter{n}")
        report = report_create(user=reporter, subject_kind="user", subject_id=client_user.pk,
                               category="off_platform", text="外部に誘導されました。")
        Report.objects.filter(pk=report.pk).update(created_at=now - timedelta(days=age))
    # three guard holds, one of them 40 days ago
    for age in (0, 1, 40):
        GuardHold.objects.create(user=client_user, surface="message", kinds=["line"], fragments=["abc"],
                                 created_at=now - timedelta(days=age))
    account_restrict(user_id=client_user.pk, operator=operator, note="様子を見る")
    return order


def test_risk_panel_figures(client_user, worker, operator, make_user, api_as):
    order = hand_built(client_user, worker, operator, make_user)
    status, risk = api_as(operator).get(f"/api/ops/users/{client_user.pk}/risk")
    assert status == 200, risk
    expected = {
        "account_age_days": 40,
        "identity_verified": False,
        "rating": None,
        "reports_total": 2,
        "reports_recent": 1,
        "holds_total": 3,
        "holds_recent": 2,
        "permits_requested": 3,
        "permits_denied": 1,
        "permits_revoked": 1,
        "contracts_offered": 4,
        "contracts_accepted": 3,
        "contracts_funded": 2,
        "contracts_funding_decided": 2,  # the accepted offer still awaiting funding is not yet decided
        "funding_rate": 100,
        "rating_count": 0,
        "funded_yen": 80_000 + order.total,
        "orders_bought": 1,
        "open_contracts": 4,
        "open_orders": 1,
        "open_deals": 5,
        "restricted": True,
        "suspended": False,
    }
    assert {k: risk[k] for k in expected} == expected
    assert [a["action"] for a in risk["operator_actions"]] == ["account_restrict"]
    assert risk["operator_actions"][0]["note"] == "様子を見る"

    page = text(login(operator).get(f"/ops/users/{client_user.pk}/"))
    assert _testid(page, "risk-age") == "40日"
    assert _testid(page, "risk-identity") == "未確認"
    assert _testid(page, "risk-rating") == "評価なし"
    assert _testid(page, "risk-reports") == "90日で1件・累計2件"
    assert _testid(page, "risk-holds") == "30日で2回・累計3回"
    assert _testid(page, "risk-permits") == "申請3件・否認1件・取り消し1件"
    assert _testid(page, "risk-funding-rate") == "100%"
    assert _testid(page, "risk-funded-yen") == f"¥{80_000 + order.total:,}"
    assert _testid(page, "risk-open-deals") == "契約4件・注文1件"
    assert "メッセージ送信制限中" in _testid(page, "standing")
    assert "様子を見る" in page  # the past measure with its note


def test_a_new_user_has_an_empty_panel(worker, operator):
    page = text(login(operator).get(f"/ops/users/{worker.pk}/"))
    assert _testid(page, "risk-age") == "0日"
    assert _testid(page, "risk-funding-rate") == "—"
    assert _testid(page, "risk-reports") == "90日で0件・累計0件"
    assert _testid(page, "standing") == "制限なし"


def test_the_item_page_shows_the_risk_of_the_user_concerned(client_user, worker, operator):
    _report, item = build.report(worker, client_user)
    page = text(login(operator).get(f"/ops/items/{item.pk}/"))
    panel = page[page.index('data-testid="risk-panel"'):]
    assert client_user.name in panel
    assert _testid(panel, "risk-reports") == "90日で1件・累計1件"

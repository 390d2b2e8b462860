"""Termination and dispute on the contract page and in the API: the pending request with agree/refuse for the
other side and withdraw for the requester, the request form with the split preview (refund and worker net in
yen), the client's block while a delivery awaits inspection, 「事務局に相談する」 after a refusal; bad input in
Japanese with 4xx and nothing changed; the non-party 404 table; bounded queries on the contract page."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anshin.contracts import services as contracts
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.deals import services as deals
from anshin.ledger.models import JournalEntry
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db


def detail(c):
    return reverse("contracts:detail", args=[c.pk])


def request_url(c):
    return reverse("contracts:termination_request", args=[c.pk])


def answer_url(req, action):
    return reverse("contracts:termination_answer", args=[req.pk, action])


def snapshot():
    return {
        "requests": sorted(TerminationRequest.objects.values_list("pk", "state")),
        "contracts": sorted(Contract.objects.values_list("pk", "state", "due_at")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "queue": QueueItem.objects.count(),
    }


def test_request_agree_walk_on_the_page(client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    page = text(login(worker).get(detail(c)))
    assert 'data-testid="termination-form"' in page
    assert "発注者への返金 <strong>¥50,000</strong>" in page  # the default: a full refund
    browser = login(worker)
    response = browser.post(request_url(c), {"worker_amount": "30000", "reason": "体調不良のため継続が難しいです"})
    assert response.status_code == 302 and response["Location"] == detail(c)
    assert "途中終了をリクエストしました" in text(browser.get(detail(c)))

    client_page = text(login(client_user).get(detail(c)))
    assert 'data-testid="termination-pending"' in client_page and "体調不良のため" in client_page
    assert 'data-termination-action="agree"' in client_page and 'data-termination-action="refuse"' in client_page
    assert 'data-termination-action="withdraw"' not in client_page
    assert "¥20,000" in client_page and "¥24,000" in client_page and "¥6,000" in client_page
    assert "途中終了をリクエスト" in client_page  # the timeline
    worker_page = text(login(worker).get(detail(c)))
    assert 'data-termination-action="withdraw"' in worker_page
    assert 'data-termination-action="agree"' not in worker_page
    assert 'data-testid="termination-form"' not in worker_page  # one pending at a time

    req = TerminationRequest.objects.get()
    response = login(client_user).post(answer_url(req, "agree"))
    assert response.status_code == 302
    page = text(login(client_user).get(detail(c)))
    assert "途中終了（合意）" in page and 'data-testid="state">途中終了<' in page
    assert "発注者へ返金 ¥20,000" in page


def test_refusal_offers_the_dispute_and_the_dispute_freezes_the_page(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = contracts.termination_request_create(contract_id=c.pk, user=client_user, reason="予算の都合です")
    assert login(worker).post(answer_url(req, "refuse")).status_code == 302
    page = text(login(client_user).get(detail(c)))
    assert 'data-testid="termination-refused"' in page and "事務局に相談する" in page
    assert '<details open data-testid="dispute">' in page

    response = login(client_user).post(reverse("contracts:action", args=[c.pk, "open_dispute"]), {"reason": ""})
    assert response.status_code == 400 and "相談内容: このフィールドは必須です" in text(response)
    assert not QueueItem.objects.exists()
    response = login(client_user).post(
        reverse("contracts:action", args=[c.pk, "open_dispute"]), {"reason": "作業が止まっています"}
    )
    assert response.status_code == 302
    page = text(login(worker).get(detail(c)))
    assert 'data-testid="dispute-notice"' in page and "トラブル相談中" in page
    assert 'data-testid="termination"' not in page and 'data-testid="actions"' not in page
    assert QueueItem.objects.get().kind == "termination_escalation"


def test_client_sees_why_there_is_no_form_while_a_delivery_awaits_inspection(client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    page = text(login(client_user).get(detail(c)))
    assert 'data-testid="termination-blocked"' in page and 'data-testid="termination-form"' not in page
    assert 'data-testid="termination-form"' in text(login(worker).get(detail(c)))
    response = login(client_user).post(request_url(c), {"worker_amount": "0", "reason": "やめたい"})
    assert response.status_code == 400 and "検収合格にするか修正を依頼" in text(response)
    assert not TerminationRequest.objects.exists()


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"worker_amount": "-1", "reason": "理由"}, 400, "0 以上"),
        ({"worker_amount": "50001", "reason": "理由"}, 400, "契約金額（¥50,000）以下"),
        ({"worker_amount": "1.5", "reason": "理由"}, 400, "整数を入力してください"),
        ({"worker_amount": "", "reason": "理由"}, 400, "このフィールドは必須です"),
        ({"worker_amount": "0", "reason": ""}, 400, "途中終了したい理由: このフィールドは必須です"),
    ],
)
def test_bad_input_on_the_form(client_user, worker, data, status, message):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    before = snapshot()
    response = login(worker).post(request_url(c), data)
    assert response.status_code == status
    assert message in text(response)
    assert snapshot() == before


def test_the_split_preview(client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    url = reverse("contracts:termination_preview", args=[c.pk])
    preview = text(login(client_user).get(url, {"worker_amount": "30000"}, HTTP_HX_REQUEST="true"))
    assert "<strong>¥20,000</strong>" in preview and "<strong>¥24,000</strong>" in preview and "¥6,000" in preview
    for bad in ("-5", "50001", "abc"):
        assert "以下で入力してください" in text(login(client_user).get(url, {"worker_amount": bad}))


# --- API ------------------------------------------------------------------------------------------------


def test_api_request_answer_and_dispute(client_user, worker, api_as):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    status, body = api_as(worker).post(
        f"/api/contracts/{c.pk}/termination-requests", {"worker_amount": 30_000, "reason": "継続できません"}
    )
    assert status == 201, body
    assert (body["worker_amount"], body["fee"], body["worker_net"], body["refund"]) == (30_000, 6_000, 24_000, 20_000)
    assert body["state"] == "pending" and body["requested_as"] == "worker"
    assert [a["action"] for a in body["allowed_actions"]] == ["withdraw"]
    status, rows = api_as(client_user).get(f"/api/contracts/{c.pk}/termination-requests")
    assert status == 200 and [a["action"] for a in rows[0]["allowed_actions"]] == ["agree", "refuse"]
    status, refused = api_as(client_user).post(f"/api/termination-requests/{body['id']}/actions/refuse")
    assert status == 200 and refused["state"] == "refused" and refused["allowed_actions"] == []
    status, disputed = api_as(worker).post(f"/api/contracts/{c.pk}/actions/open_dispute", {"reason": "相談します"})
    assert status == 200 and disputed["state"] == "disputed" and disputed["allowed_actions"] == []
    assert disputed["escrow"] == 50_000
    status, missing = api_as(client_user).post(f"/api/contracts/{c.pk}/actions/open_dispute", {"reason": "再度"})
    assert status == 400 and missing["code"] == "not_allowed"


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"worker_amount": -1, "reason": "理由"}, 422, "invalid"),
        ({"worker_amount": 50_001, "reason": "理由"}, 400, "invalid_amount"),
        ({"worker_amount": "30000", "reason": "理由"}, 422, "invalid"),
        ({"worker_amount": 1.5, "reason": "理由"}, 422, "invalid"),
        ({"worker_amount": 0}, 422, "invalid"),
        ({"worker_amount": 0, "reason": "  "}, 400, "empty"),
    ],
)
def test_api_bad_input(payload, status, code, client_user, worker, api_as):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    before = snapshot()
    got, body = api_as(worker).post(f"/api/contracts/{c.pk}/termination-requests", payload)
    assert (got, body["code"]) == (status, code), body
    assert snapshot() == before


def test_api_dispute_needs_a_reason(client_user, worker, api_as):
    c = factories.contract(client_user, worker, state="funded")
    before = snapshot()
    status, body = api_as(worker).post(f"/api/contracts/{c.pk}/actions/open_dispute")
    assert status == 400 and body["code"] == "empty" and "相談内容" in body["message"]
    assert snapshot() == before


# --- the non-party table ---------------------------------------------------------------------------------


@pytest.fixture
def world(client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    req = contracts.termination_request_create(contract_id=c.pk, user=worker, worker_amount=10_000, reason="終了したい")
    return {"contract": c, "request": req}


def web_urls(w):
    c, req = w["contract"], w["request"]
    return [
        request_url(c),
        reverse("contracts:termination_preview", args=[c.pk]),
        reverse("contracts:action", args=[c.pk, "open_dispute"]),
        reverse("contracts:action", args=[c.pk, "terminate_overdue"]),
    ] + [answer_url(req, a) for a in ("agree", "refuse", "withdraw")]


def api_calls(w):
    c, req = w["contract"], w["request"]
    return [
        ("get", f"/api/contracts/{c.pk}/termination-requests", None),
        ("post", f"/api/contracts/{c.pk}/termination-requests", {"worker_amount": 0, "reason": "乗っ取り"}),
        ("get", f"/api/termination-requests/{req.pk}", None),
        ("post", f"/api/contracts/{c.pk}/actions/open_dispute", {"reason": "部外者"}),
        ("post", f"/api/contracts/{c.pk}/actions/terminate_overdue", None),
    ] + [("post", f"/api/termination-requests/{req.pk}/actions/{a}", None) for a in ("agree", "refuse", "withdraw")]


def test_a_stranger_gets_404_everywhere_and_nothing_changes(world, stranger, api_as):
    before = snapshot()
    browser = login(stranger)
    for url in web_urls(world):
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, {"worker_amount": "0", "reason": "部外者"}).status_code == 404, url
        assert browser.post(url, {"reason": "部外者"}, HTTP_HX_REQUEST="true").status_code == 404, url
    api = api_as(stranger)
    for method, url, body in api_calls(world):
        status, answer = api.get(url) if method == "get" else api.post(url, body)
        assert status == 404 and answer == {"code": "not_found", "message": "見つかりません。"}, (url, answer)
    assert snapshot() == before


def test_unknown_termination_ids_are_404(worker, api_as):
    assert api_as(worker).get("/api/termination-requests/987654")[0] == 404
    assert api_as(worker).post("/api/termination-requests/987654/actions/agree")[0] == 404
    assert login(worker).post("/contracts/termination/987654/agree/").status_code == 404
    assert login(worker).post(answer_url(TerminationRequest(pk=1), "explode")).status_code == 404


def test_wrong_method_after_the_party_check(world, client_user):
    assert login(client_user).get(answer_url(world["request"], "agree")).status_code == 405
    assert login(client_user).get(request_url(world["contract"])).status_code == 405


# --- bounded queries ------------------------------------------------------------------------------------


def _queries(browser, url) -> int:
    browser.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["client", "worker"])
def test_contract_page_with_pending_requests_queries_do_not_grow(who, client_user, worker):
    with time_machine.travel(clock.now(), tick=False):
        c = factories.contract(client_user, worker, state="funded")
        contracts.termination_request_create(contract_id=c.pk, user=worker, worker_amount=5_000, reason="終了したい")
        deals.date_change_propose(
            deal_kind="contract",
            deal_id=c.pk,
            user=worker,
            new_date=c.delivery_date + timedelta(days=3),
            reason="遅れます",
        )
        browser = login(client_user if who == "client" else worker)
        assert AuditEvent.objects.filter(subject_type__model="contract", subject_id=c.pk).count() == 5
        few = _queries(browser, detail(c))
        pending = deals.DateChangeRequest.objects.get(state="pending")
        deals.date_change_answer(request_id=pending.pk, user=worker, action="withdraw")
        for i in range(22):  # proposed and withdrawn: 2 events on the contract's timeline each
            req = deals.date_change_propose(
                deal_kind="contract",
                deal_id=c.pk,
                user=worker,
                new_date=c.delivery_date + timedelta(days=10 + i),
                reason=f"再申請{i}",
            )
            deals.date_change_answer(request_id=req.pk, user=worker, action="withdraw")
        deals.date_change_propose(
            deal_kind="contract",
            deal_id=c.pk,
            user=worker,
            new_date=c.delivery_date + timedelta(days=60),
            reason="最後の申請",
        )
        events = AuditEvent.objects.filter(subject_type__model="contract", subject_id=c.pk).count()
        assert events == 51
        many = _queries(browser, detail(c))
        page = text(browser.get(detail(c)))
    assert page.count('data-testid="timeline-event"') == events
    assert 'data-testid="termination-pending"' in page and 'data-testid="date-change-pending"' in page
    assert few == many
    assert many <= 30, many

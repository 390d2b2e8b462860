"""The whole deal through the API only, with token auth: the same services as the UI, the same money."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from anshin.core import clock
from anshin.core.money import tiered_fee
from anshin.ledger.services import REVENUE, balance
from tests.api.conftest import ApiClient, obtain_token


def test_post_apply_hire_fund_deliver_revise_accept_pays_worker_net(client_user, worker):
    client = ApiClient(obtain_token(client_user))
    hired = ApiClient(obtain_token(worker))
    today = clock.today()
    amount = 150_000

    status, job = client.post("/api/jobs", {
        "title": "ECサイトの商品説明文を作成", "description": "商品30点の説明文をお願いします。", "category": "writing",
        "budget_min": 100_000, "budget_max": 200_000, "application_deadline": str(today + timedelta(days=10)),
        "delivery_date": str(today + timedelta(days=30)),
    })
    assert status == 201, job
    assert job["state"] == "open" and job["budget_label"] == "¥100,000 〜 ¥200,000"
    assert [a["action"] for a in job["allowed_actions"]] == ["close"]

    status, found = hired.get("/api/jobs", q="商品説明")
    assert status == 200 and [j["id"] for j in found["items"]] == [job["id"]]

    status, application = hired.post(f"/api/jobs/{job['id']}/applications", {
        "message": "実績多数あります。", "amount": amount, "estimated_date": str(today + timedelta(days=20))})
    assert status == 201, application
    assert application["state"] == "applied"
    assert {a["action"] for a in application["allowed_actions"]} == {"withdraw"}

    status, applicants = client.get(f"/api/jobs/{job['id']}/applications")
    assert status == 200 and [a["id"] for a in applicants] == [application["id"]]

    status, contract = client.post(f"/api/applications/{application['id']}/offer", {
        "amount": amount, "delivery_date": str(today + timedelta(days=25))})
    assert status == 201, contract
    cid = contract["id"]
    assert contract["state"] == "offered" and contract["role"] == "client"
    assert contract["fee"] == tiered_fee(amount) == 25_000 and contract["net"] == 125_000
    assert contract["timer_action"] == "lapse" and contract["due_at"]

    status, contract = hired.post(f"/api/contracts/{cid}/actions/accept_offer")
    assert status == 200 and contract["state"] == "awaiting_funding", contract

    status, contract = client.post(f"/api/contracts/{cid}/actions/fund", {"card_token": "tok_visa"})
    assert status == 200 and contract["state"] == "funded", contract
    assert contract["escrow"] == amount

    status, contract = hired.post(f"/api/contracts/{cid}/actions/deliver", {
        "body": "納品します。ご確認ください。", "links": ["https://drive.example.com/a"]})
    assert status == 200 and contract["state"] == "delivered", contract
    assert contract["timer_action"] == "deem_accept"
    assert contract["deliveries"][0]["links"] == ["https://drive.example.com/a"]

    status, contract = client.post(f"/api/contracts/{cid}/actions/request_revision",
                                   {"reason": "3点の価格表記を修正してください"})
    assert status == 200 and contract["state"] == "revision_requested", contract

    status, contract = hired.multipart(f"/api/contracts/{cid}/deliveries", {
        "body": "修正版です。", "links": "https://drive.example.com/b",
        "files": [SimpleUploadedFile("修正版.txt", "説明文".encode(), content_type="text/plain")]})
    assert status == 201 and contract["state"] == "delivered", contract
    latest = contract["deliveries"][-1]
    assert latest["attachments"][0]["name"] == "修正版.txt"
    assert latest["attachments"][0]["url"].startswith("/files/")

    status, contract = client.post(f"/api/contracts/{cid}/actions/accept")
    assert status == 200 and contract["state"] == "accepted", contract
    assert contract["allowed_actions"] == [] and contract["escrow"] == 0

    status, money = hired.get("/api/me/balance")
    assert status == 200
    assert money["balance"] == amount - tiered_fee(amount) == 125_000
    assert [(p["kind"], p["amount"]) for p in money["postings"]] == [("release", 125_000)]
    assert balance(REVENUE) == 25_000

    status, events = client.get(f"/api/contracts/{cid}/timeline")
    assert status == 200
    assert [e["action"] for e in events] == ["offer", "accept_offer", "fund", "deliver", "request_revision",
                                             "deliver", "accept"]
    assert events[4]["payload"]["reason"] == "3点の価格表記を修正してください"

    status, threads = hired.get("/api/threads")
    assert status == 200
    contract_thread = next(t for t in threads if t["contract_id"] == cid)
    assert contract_thread["unread"] > 0  # the system told every transition in the thread


def test_deemed_acceptance_is_settled_when_the_contract_is_read(client_user, worker, api_as):
    import time_machine

    from tests import factories

    c = factories.contract(client_user, worker, state="delivered", amount=30_000)
    with time_machine.travel(clock.now() + timedelta(days=7, minutes=1), tick=False):
        status, contract = api_as(worker).get(f"/api/contracts/{c.pk}")
    assert status == 200
    assert contract["state"] == "accepted"
    assert balance(f"worker:{worker.pk}") == 30_000 - tiered_fee(30_000)

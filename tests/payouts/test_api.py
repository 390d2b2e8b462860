"""The API twins: the worker's bank account (GET/PUT), withdrawals (list, request, detail, cancel) and the
operators' /api/ops/withdrawals… — the same services, JSON errors in Japanese, other people's ids 404, and the
operators' endpoints 404 to anyone who is not an operator."""

from anshin.ledger.services import balance, worker_code
from anshin.ops.models import QueueItem
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import pending_code
from tests import ops as build
from tests.payouts.conftest import BANK


def test_bank_account_get_put(worker, api):
    client = api(worker)
    status, body = client.get("/api/payouts/bank-account")
    assert status == 404 and "登録されていません" in body["message"]
    status, body = client.put("/api/payouts/bank-account", {**BANK, "holder": "ﾔﾏﾀﾞ ﾊﾅｺ", "account_number": "１２３"})
    assert status == 200
    assert (body["holder"], body["account_number"], body["account_type_label"]) == ("ヤマダ　ハナコ", "0000123", "普通")
    status, body = client.get("/api/payouts/bank-account")
    assert status == 200 and body["bank_code"] == "0001"


def test_bank_account_refusals_name_the_fields(worker, api):
    status, body = api(worker).put("/api/payouts/bank-account", {**BANK, "branch_code": "1234", "holder": "Hanako"})
    assert status == 422 and body["code"] == "invalid_bank_account"
    assert {e["field"] for e in body["errors"]} == {"branch_code", "holder"}
    assert "支店コード" in body["message"] and "口座名義" in body["message"]
    status, body = api(worker).put("/api/payouts/bank-account", {**BANK, "account_type": "checking"})
    assert status == 422 and body["code"] == "invalid"


def test_request_list_detail_cancel(worker, earned, bank, api, stranger):
    client = api(worker)
    status, body = client.get("/api/payouts/balance")
    assert status == 200 and (body["available"], body["pending"], body["minimum"]) == (earned, 0, 1_000)
    assert body["bank_account"]["bank_name"] == "安心銀行"

    status, created = client.post("/api/payouts", {"amount": 9_000, "request_key": "abc"})
    assert status == 201 and created["state"] == "requested" and created["bank"]["account_number"] == "1234567"
    assert [a["action"] for a in created["actions"]] == ["cancel"]
    status, again = client.post("/api/payouts", {"amount": 9_000, "request_key": "abc"})
    assert status == 201 and again["id"] == created["id"]
    status, body = client.post("/api/payouts", {"amount": 9_001, "request_key": "abc"})
    assert status == 409 and body["code"] == "idempotency_conflict"

    status, body = client.get("/api/payouts")
    assert status == 200 and [w["id"] for w in body["items"]] == [created["id"]]
    assert api(stranger).get(f"/api/payouts/{created['id']}")[0] == 404
    assert api(stranger).post(f"/api/payouts/{created['id']}/cancel")[0] == 404
    assert api(stranger).get("/api/payouts")[1]["count"] == 0

    status, body = client.post(f"/api/payouts/{created['id']}/cancel")
    assert status == 200 and body["state"] == "cancelled" and body["actions"] == []
    assert balance(worker_code(worker.pk)) == earned


def test_request_refusals_are_clean_json(worker, earned, bank, api):
    client = api(worker)
    cases = [
        ({"amount": 999}, 400, "below_minimum"),
        ({"amount": earned + 1}, 409, "insufficient_balance"),
        ({"amount": "5000"}, 422, "invalid"),  # strictly an integer
        ({"amount": 1500.5}, 422, "invalid"),
        ({}, 422, "invalid"),
    ]
    for payload, status_code, code in cases:
        status, body = client.post("/api/payouts", payload)
        assert (status, body["code"]) == (status_code, code), payload
        assert body["message"]
    assert not Withdrawal.objects.exists()


def test_no_bank_account_and_anonymous(worker, earned, api):
    status, body = api(worker).post("/api/payouts", {"amount": 5_000})
    assert status == 400 and body["code"] == "no_bank_account"
    assert api(None).get("/api/payouts")[0] == 401


def test_ops_api_lists_pays_and_reverses_with_a_note(worker, earned, bank, operator, api):
    w1 = api(worker).post("/api/payouts", {"amount": 5_000})[1]
    w2 = api(worker).post("/api/payouts", {"amount": 3_000})[1]
    ops = api(operator)
    status, body = ops.get("/api/ops/withdrawals", state="requested")
    assert status == 200 and [w["id"] for w in body["items"]] == [w1["id"], w2["id"]]  # oldest first
    assert body["items"][0]["bank"]["holder"] == "ヤマダ　ハナコ" and body["items"][0]["item_id"]

    status, body = ops.post(f"/api/ops/withdrawals/{w1['id']}/pay", {"note": ""})
    assert status == 400 and body["code"] == "note_required"
    status, body = ops.post(f"/api/ops/withdrawals/{w1['id']}/pay", {"note": "振込済み"})
    assert status == 200 and body["state"] == "paid" and body["decided_by"]["id"] == operator.pk
    status, body = ops.post(f"/api/ops/withdrawals/{w1['id']}/pay", {"note": "二度目"})
    assert status == 400 and body["code"] == "not_allowed"

    status, body = ops.post(f"/api/ops/withdrawals/{w2['id']}/reverse", {"note": "名義不一致", "reason": "nope"})
    assert status == 422
    status, body = ops.post(f"/api/ops/withdrawals/{w2['id']}/reverse",
                            {"note": "名義不一致", "reason": "holder_mismatch"})
    assert status == 200 and body["state"] == "reversed"
    assert (balance(worker_code(worker.pk)), balance(pending_code(worker.pk))) == (earned - 5_000, 0)

    item = QueueItem.objects.get(pk=body["item_id"])
    assert (item.state, item.resolution, item.note) == ("closed", "reversed", "名義不一致")
    status, body = ops.get(f"/api/ops/items/{item.pk}")
    assert status == 200 and body["view"] == "withdrawal"
    assert body["subject"]["bank"]["account_number"] == "1234567" and body["risk"]["user"]["id"] == worker.pk
    status, body = ops.get("/api/ops/dashboard")
    assert (body["pending_payouts_total"], body["worker_balance_total"]) == (0, earned - 5_000)


def test_ops_close_refuses_a_waiting_withdrawal(worker, earned, bank, operator, api):
    w = api(worker).post("/api/payouts", {"amount": 5_000})[1]
    item = build.item_for(Withdrawal.objects.get(pk=w["id"]))
    status, body = api(operator).post(f"/api/ops/items/{item.pk}/close", {"note": "確認", "resolution": "done"})
    assert status == 409 and body["code"] == "withdrawal_waiting"


def test_ops_withdrawal_endpoints_are_404_to_non_operators(worker, earned, bank, stranger, make_user, api):
    w = api(worker).post("/api/payouts", {"amount": 5_000})[1]
    staff = make_user("staffer", is_staff=True)
    for user in (None, worker, stranger, staff):
        client = api(user)
        assert client.get("/api/ops/withdrawals")[0] == 404
        assert client.get(f"/api/ops/withdrawals/{w['id']}")[0] == 404
        assert client.post(f"/api/ops/withdrawals/{w['id']}/pay", {"note": "払う"})[0] == 404
        assert client.post(f"/api/ops/withdrawals/{w['id']}/reverse", {"note": "x", "reason": "other"})[0] == 404
        assert client.post(f"/api/ops/withdrawals/{w['id']}/pay", {"bad": 1})[0] == 404  # before the body is read
    assert Withdrawal.objects.get(pk=w["id"]).state == "requested"

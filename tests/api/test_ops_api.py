"""The operations console's API twin (/api/ops/...): the same reads and decisions as the console, errors as
{"code", "message"} in Japanese. (Non-operators get 404 everywhere: tests/ops/test_console_access.py.)"""

from datetime import timedelta

from anshin.contracts.models import Contract
from anshin.core.models import AuditEvent
from anshin.ops.models import QueueItem
from anshin.trust.models import ContactPermit
from tests import ops as build


def test_queue_lists_open_items_by_due_time_with_filters(client_user, worker, operator, api_as):
    later = build.plain_item(worker, due_in=timedelta(days=3), n=1, concerns=worker)
    sooner = build.plain_item(worker, due_in=timedelta(hours=1), n=2)
    permit, permit_item = build.permit(client_user, worker)
    api = api_as(operator)
    status, body = api.get("/api/ops/queue")
    assert status == 200
    ids = [i["id"] for i in body["items"]]
    dues = [i["due_at"] for i in body["items"]]
    assert dues == sorted(dues) and set(ids) == {later.pk, sooner.pk, permit_item.pk}
    status, body = api.get("/api/ops/queue", kind="guard_flag")
    assert [i["id"] for i in body["items"]] == [sooner.pk, later.pk]
    first = body["items"][1]
    assert first["concerns"] == {"id": worker.pk, "name": worker.name}
    assert first["kind_label"] == "連絡先・詐欺の検知" and first["overdue"] is False
    assert first["due_at"].endswith("+09:00")

    status, body = api.get("/api/ops/queue", mine="true")
    assert body["count"] == 0
    api.post(f"/api/ops/items/{later.pk}/assign", {"assignee_id": operator.pk})
    status, body = api.get("/api/ops/queue", mine="true")
    assert [i["id"] for i in body["items"]] == [later.pk]
    status, body = api.get("/api/ops/queue", kind="nonsense")
    assert status == 422 and body["code"] == "invalid"


def test_item_detail_shows_the_subject_in_context(client_user, worker, operator, api_as):
    permit, item = build.permit(client_user, worker)
    status, body = api_as(operator).get(f"/api/ops/items/{item.pk}")
    assert status == 200, body
    assert body["view"] == "permit"
    assert body["subject"]["tool"] == "chatwork" and body["subject"]["purpose"] == "打ち合わせのため"
    assert {p["id"] for p in body["parties"]} == {client_user.pk, worker.pk}
    assert body["thread_id"] == permit.thread_id
    assert body["risk"]["user"]["id"] == client_user.pk
    status, body = api_as(operator).get("/api/ops/items/99999999")
    assert status == 404 and body["code"] == "not_found"


def test_dispute_item_and_resolution_through_the_api(client_user, worker, operator, api_as):
    contract, item = build.dispute(client_user, worker)
    api = api_as(operator)
    status, body = api.get(f"/api/ops/items/{item.pk}")
    assert body["view"] == "deal" and body["subject"]["escrow"] == contract.amount
    assert any(e["action"] == "open_dispute" for e in body["subject"]["timeline"])

    status, body = api.post(f"/api/ops/disputes/contract/{contract.pk}/resolve", {"outcome": "split", "note": "分割"})
    assert status == 400 and body["code"] == "worker_amount_required"
    status, body = api.post(f"/api/ops/disputes/contract/{contract.pk}/resolve",
                            {"outcome": "split", "worker_amount": 10_000, "note": ""})
    assert status == 400 and body["code"] == "note_required"
    assert Contract.objects.get(pk=contract.pk).state == "disputed"
    status, body = api.post(f"/api/ops/disputes/contract/{contract.pk}/resolve",
                            {"outcome": "split", "worker_amount": 10_000, "note": "双方の主張を確認"})
    assert status == 200, body
    assert body == {"kind": "contract", "id": contract.pk, "state": "terminated", "escrow": 0}
    assert QueueItem.objects.get(pk=item.pk).state == "closed"
    status, body = api.post(f"/api/ops/disputes/nonsense/{contract.pk}/resolve", {"outcome": "refund", "note": "x"})
    assert status == 404


def test_permit_decide_and_revoke(client_user, worker, operator, api_as):
    permit, item = build.permit(client_user, worker)
    api = api_as(operator)
    status, body = api.post(f"/api/ops/permits/{permit.pk}/decide", {"approve": True, "note": "業務上必要"})
    assert status == 200, body
    assert body["state"] == "approved"
    assert QueueItem.objects.get(pk=item.pk).state == "closed"
    status, body = api.post(f"/api/ops/permits/{permit.pk}/revoke", {"note": "通報を受けて取り消し"})
    assert status == 200 and body["state"] == "revoked"
    event = AuditEvent.objects.filter(action="revoke", actor=operator).latest("id")
    assert event.payload["note"] == "通報を受けて取り消し"
    status, body = api.post(f"/api/ops/permits/{permit.pk}/decide", {"approve": "maybe", "note": "x"})
    assert status == 422


def test_user_actions_and_risk(client_user, worker, operator, api_as):
    from anshin.trust.permits import permit_decide

    permit, _item = build.permit(client_user, worker)
    permit_decide(permit_id=permit.pk, operator=operator, approve=True, note="承認")
    api = api_as(operator)
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions", {"action": "warn", "note": "警告"})
    assert status == 400 and body["code"] == "message_required"
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions",
                            {"action": "warn", "note": "警告", "message": "外部への誘導はおやめください。"})
    assert status == 200, body
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions", {"action": "restrict", "note": "制限"})
    assert status == 200 and body["restricted"] is True
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions",
                            {"action": "revoke_permits", "note": "通報を受けて"})
    assert status == 200
    assert ContactPermit.objects.get(pk=permit.pk).state == "revoked"
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions", {"action": "verify_identity", "note": "書類"})
    assert body["identity_verified"] is True
    status, risk = api.get(f"/api/ops/users/{client_user.pk}/risk")
    assert [a["action"] for a in risk["operator_actions"]][:4] == [
        "account_verify_identity", "permits_revoke_all", "account_restrict", "account_warn"]
    status, body = api.post(f"/api/ops/users/{client_user.pk}/actions", {"action": "explode", "note": "x"})
    assert status == 422
    status, body = api.get("/api/ops/users/99999999/risk")
    assert status == 404


def test_close_and_assign(client_user, worker, operator, api_as, make_user):
    item = build.guard_flag(client_user)
    api = api_as(operator)
    status, body = api.post(f"/api/ops/items/{item.pk}/assign", {"assignee_id": worker.pk})
    assert status == 400 and body["code"] == "not_operator"
    status, body = api.post(f"/api/ops/items/{item.pk}/assign", {"assignee_id": operator.pk})
    assert status == 200 and body["item"]["assignee"]["id"] == operator.pk
    status, body = api.post(f"/api/ops/items/{item.pk}/assign", {"assignee_id": None})
    assert status == 200 and body["item"]["assignee"] is None
    status, body = api.post(f"/api/ops/items/{item.pk}/close", {"note": ""})
    assert status == 400 and body["code"] == "note_required"
    status, body = api.post(f"/api/ops/items/{item.pk}/close", {"note": "誤検知", "resolution": "no_action"})
    assert status == 200 and body["item"]["state"] == "closed" and body["item"]["resolution"] == "no_action"
    status, body = api.post(f"/api/ops/items/{item.pk}/close", {"note": "二重"})
    assert status == 400 and body["code"] == "closed"


def test_dashboard_and_audit(client_user, worker, operator, api_as):
    item = build.plain_item(worker, due_in=timedelta(hours=-1))
    api = api_as(operator)
    status, body = api.get("/api/ops/dashboard")
    assert status == 200
    guard = next(q for q in body["queues"] if q["kind"] == "guard_flag")
    assert guard == {"kind": "guard_flag", "label": "連絡先・詐欺の検知", "open": 1, "overdue": 1}
    api.post(f"/api/ops/items/{item.pk}/close", {"note": "確認した"})
    status, body = api.get("/api/ops/audit", action="queue_close")
    assert status == 200 and body["count"] == 1
    event = body["items"][0]
    assert event["actor"]["id"] == operator.pk and event["subject_type"] == "queueitem"
    assert event["payload"]["note"] == "確認した"
    status, body = api.get("/api/ops/audit", actor_id=worker.pk)
    assert all(e["actor"] and e["actor"]["id"] == worker.pk for e in body["items"])

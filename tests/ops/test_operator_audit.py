"""Operators cannot act without leaving a trace: every decision taken in the console writes an audit event
by the operator carrying the internal note; without a note the decision is refused (in Japanese), nothing
changes and no audit event is written."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from anshin.accounts.models import User
from anshin.contracts.models import Contract
from anshin.core.models import AuditEvent
from anshin.ledger.models import Posting
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.trust.models import ContactPermit
from tests import factories
from tests import ops as build
from tests.web.helpers import login, text

NOTE = "社内確認のうえ対応（テストの内部メモ）"


@dataclass
class Case:
    url: str
    data: dict
    done: Callable[[], bool]  # the decision took effect


def snapshot() -> dict:
    return {
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "postings": Posting.objects.count(),
        "items": list(QueueItem.objects.order_by("id").values_list("id", "state", "assignee_id", "note")),
        "permits": list(ContactPermit.objects.order_by("id").values_list("id", "state")),
        "contracts": list(Contract.objects.order_by("id").values_list("id", "state")),
        "users": list(User.objects.order_by("id").values_list(
            "id", "is_active", "suspended_at", "messaging_restricted_at", "identity_verified_at")),
    }


def _user(u):
    return User.objects.get(pk=u.pk)


def _approved_permit(client_user, worker, operator):
    from anshin.trust.permits import permit_decide

    permit, item = build.permit(client_user, worker)
    permit_decide(permit_id=permit.pk, operator=operator, approve=True, note="承認")
    return permit, item


def case_close(c, w, op):
    item = build.guard_flag(c)
    return Case(f"/ops/items/{item.pk}/close/", {"resolution": "no_action"},
                lambda: QueueItem.objects.get(pk=item.pk).state == "closed")


def case_close_report(c, w, op):
    report, item = build.report(w, c)
    return Case(f"/ops/items/{item.pk}/close/", {"resolution": "done"},
                lambda: QueueItem.objects.get(pk=item.pk).state == "closed"
                and type(report).objects.get(pk=report.pk).state == "closed")


def case_permit_approve(c, w, op):
    permit, item = build.permit(c, w)
    return Case(f"/ops/items/{item.pk}/permit/", {"decision": "approve"},
                lambda: ContactPermit.objects.get(pk=permit.pk).state == "approved")


def case_permit_deny(c, w, op):
    permit, item = build.permit(c, w)
    return Case(f"/ops/items/{item.pk}/permit/", {"decision": "deny"},
                lambda: ContactPermit.objects.get(pk=permit.pk).state == "denied")


def case_permit_revoke(c, w, op):
    permit, item = _approved_permit(c, w, op)
    return Case(f"/ops/items/{item.pk}/permit/", {"decision": "revoke"},
                lambda: ContactPermit.objects.get(pk=permit.pk).state == "revoked")


def case_revoke_all(c, w, op):
    permit, _item = _approved_permit(c, w, op)
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "revoke_permits"},
                lambda: ContactPermit.objects.get(pk=permit.pk).state == "revoked")


def case_warn(c, w, op):
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "warn", "message": "外部連絡への誘導はおやめください。"},
                lambda: Notification.objects.filter(user=c, body__contains="外部連絡への誘導").exists())


def case_restrict(c, w, op):
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "restrict"},
                lambda: _user(c).messaging_restricted_at is not None)


def case_unrestrict(c, w, op):
    from anshin.trust.standing import account_restrict

    account_restrict(user_id=c.pk, operator=op, note="制限")
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "unrestrict"},
                lambda: _user(c).messaging_restricted_at is None)


def case_suspend(c, w, op):
    contract = factories.contract(c, w, "funded")
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "suspend"},
                lambda: not _user(c).is_active and _user(c).suspended_at is not None
                and Contract.objects.get(pk=contract.pk).state == "disputed")


def case_reinstate(c, w, op):
    from anshin.trust.standing import account_suspend

    account_suspend(user_id=c.pk, operator=op, note="停止")
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "reinstate"},
                lambda: _user(c).is_active and _user(c).suspended_at is None)


def case_verify(c, w, op):
    return Case(f"/ops/users/{c.pk}/actions/", {"action": "verify_identity"},
                lambda: _user(c).identity_verified_at is not None)


def case_resolve(outcome, amount=None):
    def make(c, w, op):
        contract, item = build.dispute(c, w)
        data = {"outcome": outcome}
        if amount is not None:
            data["worker_amount"] = amount
        target = {"release": "accepted", "refund": "terminated", "split": "terminated"}[outcome]
        return Case(f"/ops/items/{item.pk}/resolve/", data,
                    lambda: Contract.objects.get(pk=contract.pk).state in (target, "accepted", "terminated")
                    and QueueItem.objects.get(pk=item.pk).state == "closed")
    return make


def case_post(c, w, op):
    contract = factories.contract(c, w, "funded")
    item = build.nudge_item(contract.thread, c)
    return Case(f"/ops/items/{item.pk}/message/", {"body": "事務局です。ご返信をお願いいたします。"},
                lambda: Message.objects.filter(thread=contract.thread, sender=op,
                                               body__startswith="事務局です。").exists())


CASES = {
    "close": case_close,
    "close_report": case_close_report,
    "permit_approve": case_permit_approve,
    "permit_deny": case_permit_deny,
    "permit_revoke": case_permit_revoke,
    "revoke_all": case_revoke_all,
    "warn": case_warn,
    "restrict": case_restrict,
    "unrestrict": case_unrestrict,
    "suspend": case_suspend,
    "reinstate": case_reinstate,
    "verify_identity": case_verify,
    "resolve_release": case_resolve("release"),
    "resolve_refund": case_resolve("refund"),
    "resolve_split": case_resolve("split", 10_000),
    "post_as_operator": case_post,
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_decision_is_audited_with_the_operators_note(name, client_user, worker, operator):
    case = CASES[name](client_user, worker, operator)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = login(operator).post(case.url, {**case.data, "note": NOTE})
    assert response.status_code == 302, text(response)
    assert case.done()
    mine = list(AuditEvent.objects.filter(id__gt=last, actor=operator))
    assert mine, "no audit event by the operator"
    assert all(e.actor_role == "operator" for e in mine)
    assert all((e.payload or {}).get("note") == NOTE for e in mine), [(e.action, e.payload) for e in mine]


@pytest.mark.parametrize("note", ["", "   \n "])
@pytest.mark.parametrize("name", list(CASES))
def test_no_note_no_decision(name, note, client_user, worker, operator):
    case = CASES[name](client_user, worker, operator)
    before = snapshot()
    response = login(operator).post(case.url, {**case.data, "note": note})
    assert response.status_code == 400
    assert "内部メモを入力してください" in text(response)
    assert not case.done()
    assert snapshot() == before


def test_taking_and_releasing_an_item_is_audited(client_user, worker, operator, make_user):
    from anshin.ops.permissions import grant_operator

    colleague = make_user("colleague")
    grant_operator(colleague)
    _contract, item = build.dispute(client_user, worker)
    client = login(operator)
    assert client.post(f"/ops/items/{item.pk}/assign/", {"assignee_id": operator.pk}).status_code == 302
    assert QueueItem.objects.get(pk=item.pk).assignee_id == operator.pk
    assert client.post(f"/ops/items/{item.pk}/assign/", {"assignee_id": colleague.pk}).status_code == 302
    assert QueueItem.objects.get(pk=item.pk).assignee_id == colleague.pk
    assert client.post(f"/ops/items/{item.pk}/assign/", {"assignee_id": ""}).status_code == 302
    assert QueueItem.objects.get(pk=item.pk).assignee_id is None
    events = list(AuditEvent.objects.filter(action="queue_assign", subject_id=item.pk).order_by("id"))
    assert [(e.actor_id, e.payload["from"], e.payload["to"]) for e in events] == [
        (operator.pk, None, operator.pk), (operator.pk, operator.pk, colleague.pk), (operator.pk, colleague.pk, None)]


def test_an_item_cannot_go_to_someone_outside_the_group(client_user, worker, operator):
    _contract, item = build.dispute(client_user, worker)
    before = snapshot()
    response = login(operator).post(f"/ops/items/{item.pk}/assign/", {"assignee_id": worker.pk})
    assert response.status_code == 400
    assert "担当者には事務局のメンバーを指定してください" in text(response)
    assert snapshot() == before


def test_the_api_refuses_a_decision_without_note_too(client_user, worker, operator):
    permit, _item = build.permit(client_user, worker)
    before = snapshot()
    api = build.api_client(operator)
    status, body = api.post(f"/api/ops/permits/{permit.pk}/decide", {"approve": True, "note": " "})
    assert status == 400 and body["code"] == "note_required" and "内部メモ" in body["message"]
    assert snapshot() == before


def test_a_too_long_note_is_refused(client_user, worker, operator):
    from anshin import rules

    permit, item = build.permit(client_user, worker)
    before = snapshot()
    response = login(operator).post(f"/ops/items/{item.pk}/permit/",
                                    {"decision": "approve", "note": "あ" * (rules.OPS_NOTE_MAX_LENGTH + 1)})
    assert response.status_code == 400
    assert snapshot() == before

"""サービス外連絡申請 (PRODUCT.md §6, seed 003) at the service level: who may request, one live request per
thread, withdrawal by the requester, operator decisions with an internal note that the parties never see,
revocation of one permit or of all of a user's, the queue item and the audit trail."""

import pytest

from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.trust import permits
from anshin.trust.models import ContactPermit
from tests import factories

pytestmark = pytest.mark.django_db

NOTE = "評価・本人確認ともに問題なし（内部メモ）"


@pytest.fixture
def thread(client_user, worker):
    return factories.application(client_user, worker).thread


def request(thread, user, tool="zoom", purpose="週1回のZoom定例で進捗を確認するため"):
    return permits.permit_request(thread_id=thread.pk, user=user, tool=tool, purpose=purpose)


def audits(permit, action):
    return AuditEvent.objects.filter(subject_type__model="contactpermit", subject_id=permit.pk, action=action)


def queue_item(permit):
    return QueueItem.objects.get(kind=QueueItem.Kind.PERMIT, subject_type__model="contactpermit",
                                 subject_id=permit.pk)


def test_either_member_requests_and_the_operators_get_a_queue_item(thread, client_user, worker):
    permit = request(thread, worker, tool="chatwork")
    assert permit.state == "pending" and permit.requested_by == worker and permit.tool == "chatwork"
    assert permit.decide_by > permit.created_at
    item = queue_item(permit)
    assert item.state == "open" and item.concerns == worker and item.due_at == permit.decide_by
    assert "Chatwork" in item.summary and thread.subject in item.summary
    system = Message.objects.filter(thread=thread, kind="system").last()
    assert "サービス外連絡申請" in system.body and "Chatwork" in system.body
    assert Notification.objects.filter(user=client_user, kind="permit.requested").exists()
    assert not Notification.objects.filter(user=worker, kind="permit.requested").exists()
    assert audits(permit, "request").get().actor == worker


def test_a_contract_thread_can_have_a_permit_too(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    assert request(contract.thread, client_user).state == "pending"


def test_only_members_may_request(thread, stranger, operator):
    with pytest.raises(NotFound):
        request(thread, stranger)
    with pytest.raises(DomainError) as refused:
        request(thread, operator)
    assert refused.value.status == 403
    assert not ContactPermit.objects.exists()


@pytest.mark.parametrize("tool, purpose, code", [
    ("fax", "目的", "invalid_tool"), ("", "目的", "invalid_tool"), ("zoom", "   ", "required"),
    ("zoom", "あ" * 1001, "too_long"),
])
def test_tool_and_purpose_are_checked(thread, client_user, tool, purpose, code):
    with pytest.raises(DomainError) as refused:
        request(thread, client_user, tool=tool, purpose=purpose)
    assert refused.value.code == code and not ContactPermit.objects.exists()


def test_a_second_live_request_is_refused_until_the_first_is_settled(thread, client_user, worker, operator):
    first = request(thread, client_user)
    for user in (client_user, worker):
        with pytest.raises(DomainError) as refused:
            request(thread, user)
        assert refused.value.code == "permit_exists" and refused.value.status == 409
    permits.permit_decide(permit_id=first.pk, operator=operator, approve=True, note=NOTE)
    with pytest.raises(DomainError):
        request(thread, worker)  # approved is live too
    permits.permit_revoke(permit_id=first.pk, operator=operator, note="確認のため取り消し")
    assert request(thread, worker).state == "pending"
    assert ContactPermit.objects.filter(thread=thread).count() == 2


def test_withdraw_by_the_requester_only_while_pending(thread, client_user, worker, stranger, operator):
    permit = request(thread, client_user)
    with pytest.raises(DomainError) as refused:
        permits.permit_withdraw(permit_id=permit.pk, user=worker)
    assert refused.value.code == "not_requester" and refused.value.status == 403
    with pytest.raises(NotFound):
        permits.permit_withdraw(permit_id=permit.pk, user=stranger)

    permits.permit_withdraw(permit_id=permit.pk, user=client_user)
    permit.refresh_from_db()
    assert permit.state == "withdrawn"
    assert queue_item(permit).state == "closed"
    assert Notification.objects.filter(user=worker, kind="permit.withdrawn").exists()

    approved = request(thread, client_user)
    permits.permit_decide(permit_id=approved.pk, operator=operator, approve=True, note=NOTE)
    with pytest.raises(DomainError) as refused:
        permits.permit_withdraw(permit_id=approved.pk, user=client_user)
    assert refused.value.code == "not_allowed"


def test_non_operators_cannot_decide_or_revoke(thread, client_user, worker, stranger):
    permit = request(thread, client_user)
    for user in (client_user, worker, stranger):
        with pytest.raises(NotFound):
            permits.permit_decide(permit_id=permit.pk, operator=user, approve=True, note=NOTE)
        with pytest.raises(NotFound):
            permits.permit_revoke(permit_id=permit.pk, operator=user, note=NOTE)
        with pytest.raises(NotFound):
            permits.permit_revoke_all(user_id=client_user.pk, operator=user, note=NOTE)
    permit.refresh_from_db()
    assert permit.state == "pending" and not AuditEvent.objects.filter(actor_role="operator").exists()


def test_a_decision_needs_a_note(thread, client_user, operator):
    permit = request(thread, client_user)
    with pytest.raises(DomainError) as refused:
        permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note="  ")
    assert refused.value.code == "note_required"
    permit.refresh_from_db()
    assert permit.state == "pending"


@pytest.mark.parametrize("approve", [True, False])
def test_decision_tells_both_parties_the_result_only(thread, client_user, worker, operator, approve):
    permit = request(thread, worker)
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=approve, note=NOTE)
    permit.refresh_from_db()
    assert permit.state == ("approved" if approve else "denied")
    assert permit.decided_by == operator and permit.decided_at and permit.internal_note == NOTE
    kind = "permit.approved" if approve else "permit.denied"
    for user in (client_user, worker):
        told = Notification.objects.get(user=user, kind=kind)
        assert NOTE not in told.title + told.body
    system = Message.objects.filter(thread=thread, kind="system").last().body
    assert NOTE not in system
    assert ("承認されました" in system) if approve else ("否認されました（理由は開示していません）" in system)

    event = audits(permit, "approve" if approve else "deny").get()
    assert event.actor == operator and event.actor_role == "operator" and event.payload["note"] == NOTE
    item = queue_item(permit)
    assert item.state == "closed" and item.closed_by == operator and item.note == NOTE

    with pytest.raises(DomainError):  # decided once
        permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note=NOTE)


def test_revoke_tells_every_member_and_is_audited(thread, client_user, worker, operator):
    permit = request(thread, client_user)
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note=NOTE)
    with pytest.raises(DomainError):
        permits.permit_revoke(permit_id=permit.pk, operator=operator, note="")
    permits.permit_revoke(permit_id=permit.pk, operator=operator, note="通報を受けて取り消し")
    permit.refresh_from_db()
    assert permit.state == "revoked" and permit.internal_note == "通報を受けて取り消し"
    assert audits(permit, "revoke").get().payload["note"] == "通報を受けて取り消し"
    for user in (client_user, worker):
        assert Notification.objects.filter(user=user, kind="permit.revoked").exists()
    assert not permits.thread_has_permit(thread) and permits.thread_permit(thread) is None


def test_revoke_all_takes_back_every_approved_permit_of_the_user(client_user, worker, make_user, operator):
    second, other_client = make_user("w2", display_name="佐藤次郎"), make_user("c2", display_name="別の発注者")
    mine = [factories.application(client_user, worker).thread, factories.application(client_user, second).thread]
    theirs = factories.application(other_client, worker).thread  # the same worker, another client: untouched
    pending_thread = factories.application(client_user, make_user("w3")).thread
    approved = []
    for t in (*mine, theirs):
        p = request(t, t.members.exclude(user__in=[worker, second]).first().user)
        approved.append(permits.permit_decide(permit_id=p.pk, operator=operator, approve=True, note=NOTE))
    pending = request(pending_thread, client_user)
    Notification.objects.all().delete()

    assert permits.permit_revoke_all(user_id=client_user.pk, operator=operator, note="複数の通報を確認") == 2
    states = {p.thread_id: ContactPermit.objects.get(pk=p.pk).state for p in approved}
    assert states == {mine[0].pk: "revoked", mine[1].pk: "revoked", theirs.pk: "approved"}
    assert ContactPermit.objects.get(pk=pending.pk).state == "pending"  # still for the operators to decide
    for user in (client_user, worker, second):
        assert Notification.objects.filter(user=user, kind="permit.revoked").exists(), user
    assert not Notification.objects.filter(user=other_client).exists()
    for p in approved[:2]:
        assert audits(p, "revoke").get().payload["note"] == "複数の通報を確認"
    summary = AuditEvent.objects.get(action="permits_revoke_all")
    assert summary.subject_id == client_user.pk and summary.payload["note"] == "複数の通報を確認"
    assert summary.payload["count"] == 2 and summary.actor == operator

    assert permits.permit_revoke_all(user_id=client_user.pk, operator=operator, note="再確認") == 0
    assert AuditEvent.objects.filter(action="permits_revoke_all").count() == 2  # even when nothing was left
    with pytest.raises(NotFound):
        permits.permit_revoke_all(user_id=999_999, operator=operator, note="再確認")


def test_thread_permit_reads_the_live_one(thread, client_user, operator):
    assert permits.thread_permit(thread) is None and not permits.thread_has_permit(thread)
    permit = request(thread, client_user)
    assert permits.thread_permit(thread) == permit and not permits.thread_has_permit(thread)
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note=NOTE)
    assert permits.thread_permit(thread) == permit and permits.thread_has_permit(thread)


def test_a_restricted_member_cannot_request(thread, client_user):
    from anshin.core import clock

    client_user.messaging_restricted_at = clock.now()
    client_user.save(update_fields=["messaging_restricted_at"])
    with pytest.raises(DomainError) as refused:
        request(thread, client_user)
    assert refused.value.code == "messaging_restricted" and not ContactPermit.objects.exists()

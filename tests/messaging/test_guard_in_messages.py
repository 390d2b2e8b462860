"""The contact guard on messages (PRODUCT.md §6, seed 003): contact details are held unless the thread has an
approved サービス外連絡申請 (or the sender chooses to mask them); every hold is logged and the third in 30 days
flags the sender to the operators; scam signals deliver the message with a caution and a flag; operators are
exempt; restricted or blocked senders cannot write."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.core import clock
from anshin.core.calendar import add_business_days
from anshin.core.errors import DomainError
from anshin.messaging.models import Message
from anshin.messaging.services import message_send, message_send_delay, message_send_progress
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.trust import permits
from anshin.trust.models import Block, GuardHold
from anshin.trust.permits import ContactHeld
from tests import factories

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 9, 1, 10, 0, tzinfo=TOKYO)
LINE_ID = "anshin_dev42"
WITH_LINE = f"詳しくはLINEで話しましょう。LINE ID: {LINE_ID} です。"
SCAM = "手数料がもったいないので、サイトを通さずに直接取引にしましょう。仮払いの前に作業を始めてください。"


@pytest.fixture
def thread(client_user, worker):
    with time_machine.travel(T0, tick=False):
        return factories.application(client_user, worker).thread


@pytest.fixture
def other_thread(client_user, worker):
    """A second conversation between the same two people (another job)."""
    with time_machine.travel(T0, tick=False):
        return factories.application(client_user, worker).thread


def send(thread, sender, body=WITH_LINE, **kw):
    return message_send(thread=thread, sender=sender, body=body, **kw)


def held(thread, sender, body=WITH_LINE) -> ContactHeld:
    before = Message.objects.count(), Notification.objects.count()
    with pytest.raises(ContactHeld) as refused:
        send(thread, sender, body)
    assert (Message.objects.count(), Notification.objects.count()) == before  # nothing sent, nobody told
    return refused.value


def approved_permit(thread, user, operator):
    permit = permits.permit_request(thread_id=thread.pk, user=user, tool="zoom", purpose="週1回の定例ミーティング")
    return permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note="実績のある発注者")


def guard_flags(user):
    return QueueItem.objects.filter(kind=QueueItem.Kind.GUARD_FLAG, concerns=user)


# --- held -----------------------------------------------------------------------------------------------------


def test_a_message_with_a_line_id_is_held_and_the_hold_logged(thread, client_user):
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        error = held(thread, client_user)
    assert error.code == "contact_held" and error.status == 422
    assert "LINE" in error.message and "サービス外連絡申請" in error.message
    assert any(LINE_ID in WITH_LINE[s.start:s.end] for s in error.spans), error.spans
    assert LINE_ID not in error.masked and "●●●" in error.masked and error.masked.startswith("詳しくは")
    spans = error.details()["spans"]
    assert any(LINE_ID in s["text"] for s in spans) and all(WITH_LINE[s["start"]:s["end"]] == s["text"] for s in spans)

    hold = GuardHold.objects.get()
    assert hold.user == client_user and hold.surface == "message" and hold.thread_id == thread.pk
    assert "line" in hold.kinds and any(LINE_ID in f for f in hold.fragments)
    assert not guard_flags(client_user).exists()  # one hold is not a flag


def test_the_third_hold_in_30_days_flags_the_sender_once(thread, client_user):
    for day in range(2):
        with time_machine.travel(T0 + timedelta(days=day), tick=False):
            held(thread, client_user)
    assert not guard_flags(client_user).exists()
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        held(thread, client_user)
    flag = guard_flags(client_user).get()
    assert flag.state == "open" and flag.payload["reason"] == "repeat_holds" and flag.due_at is not None
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        held(thread, client_user)
    assert guard_flags(client_user).count() == 1  # the fourth adds to the record, not to the queue
    assert GuardHold.objects.filter(user=client_user).count() == 4


def test_holds_older_than_30_days_do_not_count(thread, client_user):
    for day in (0, 1):
        with time_machine.travel(T0 + timedelta(days=day), tick=False):
            held(thread, client_user)
    for day in (31, 32):
        with time_machine.travel(T0 + timedelta(days=day, hours=1), tick=False):
            held(thread, client_user)  # the first two are more than 30 days old by now
    assert not guard_flags(client_user).exists()
    with time_machine.travel(T0 + timedelta(days=33), tick=False):
        held(thread, client_user)  # day 31, 32 and 33: three within 30 days
    assert guard_flags(client_user).count() == 1


def test_masked_message_is_sent_without_the_contact_details(thread, client_user, worker):
    message = send(thread, client_user, mask_contacts=True)
    message.refresh_from_db()
    assert message.masked is True
    assert "●●●" in message.body and LINE_ID not in message.body and message.body.startswith("詳しくは")
    told = Notification.objects.get(user=worker, kind="message")
    assert LINE_ID not in told.body and "●●●" in told.body
    assert not GuardHold.objects.exists()  # sent (masked), not held


def test_mask_flag_changes_nothing_in_a_clean_message(thread, client_user):
    message = send(thread, client_user, "明日の10時にお電話でなく、こちらでご連絡します。", mask_contacts=True)
    assert message.masked is False and "●●●" not in message.body


def test_operators_are_exempt(thread, operator):
    message = send(thread, operator, "事務局です。ご不明点は support@example.com までご連絡ください。")
    assert "support@example.com" in message.body and not GuardHold.objects.exists()


# --- permits let contact details through, in that thread only, until revoked ---------------------------------------


def test_an_approved_permit_lets_the_message_through_in_that_thread_only(thread, other_thread, client_user, worker,
                                                                          operator):
    approved_permit(thread, client_user, operator)
    message = send(thread, client_user)
    assert LINE_ID in message.body and message.masked is False
    held(other_thread, client_user)  # the same two people, another thread: still held
    assert send(thread, worker, "了解です。私のメールは hanako@example.com です。").masked is False


def test_a_pending_permit_does_not_let_contact_details_through(thread, client_user):
    permits.permit_request(thread_id=thread.pk, user=client_user, tool="line", purpose="急ぎの連絡用")
    held(thread, client_user)


def test_after_revoking_the_permit_the_message_is_held_again(thread, client_user, operator):
    permit = approved_permit(thread, client_user, operator)
    send(thread, client_user)
    permits.permit_revoke(permit_id=permit.pk, operator=operator, note="通報を受けて確認中")
    held(thread, client_user)


def test_after_revoke_all_every_thread_of_the_user_is_guarded_again(client_user, worker, make_user, operator):
    second = make_user("worker2", display_name="佐藤次郎")
    first_thread = factories.application(client_user, worker).thread
    second_thread = factories.application(client_user, second).thread
    for t in (first_thread, second_thread):
        approved_permit(t, client_user, operator)
        send(t, client_user)
    Notification.objects.all().delete()

    assert permits.permit_revoke_all(user_id=client_user.pk, operator=operator, note="複数の通報") == 2
    held(first_thread, client_user)
    held(second_thread, client_user)
    for user in (client_user, worker, second):
        assert Notification.objects.filter(user=user, kind="permit.revoked").exists(), user


# --- scam signals --------------------------------------------------------------------------------------------------


def test_scam_signals_deliver_the_message_with_a_caution_and_flag_it(thread, client_user, worker):
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        message = send(thread, client_user, SCAM)
    message.refresh_from_db()
    assert message.body == SCAM and message.masked is False
    assert message.caution and message.caution == sorted(message.caution)
    assert "fee_evasion" in message.caution or "leave_platform" in message.caution
    assert "work_before_escrow" in message.caution
    assert Notification.objects.filter(user=worker, kind="message").exists()  # delivered as usual
    flag = guard_flags(client_user).get()
    assert flag.subject_id == message.pk and flag.subject_type.model == "message"
    assert flag.payload["reason"] == "scam" and flag.payload["kinds"] == message.caution
    assert flag.due_at == add_business_days(T0 + timedelta(hours=2), 2)
    assert not GuardHold.objects.exists()


def test_a_plain_message_has_no_caution_and_no_flag(thread, client_user):
    message = send(thread, client_user, "本日中に資料をお送りします。ご確認をお願いいたします。")
    assert message.caution == [] and not QueueItem.objects.filter(kind=QueueItem.Kind.GUARD_FLAG).exists()


# --- who may write -------------------------------------------------------------------------------------------------


def test_a_restricted_user_cannot_send(thread, client_user):
    client_user.messaging_restricted_at = clock.now()
    client_user.save(update_fields=["messaging_restricted_at"])
    before = Message.objects.count()
    with pytest.raises(DomainError) as refused:
        send(thread, client_user, "こんにちは")
    assert refused.value.code == "messaging_restricted" and refused.value.status == 403
    assert refused.value.message == "事務局によりメッセージの送信が制限されています。"
    assert Message.objects.count() == before


@pytest.mark.parametrize("blocker", ["client", "worker"])
def test_a_block_either_way_stops_messages(thread, client_user, worker, blocker):
    a, b = (client_user, worker) if blocker == "client" else (worker, client_user)
    Block.objects.create(blocker=a, blocked=b, created_at=clock.now())
    for sender in (client_user, worker):
        with pytest.raises(DomainError) as refused:
            send(sender=sender, thread=thread, body="よろしくお願いします")
        assert refused.value.code == "blocked" and refused.value.status == 403
        assert refused.value.message == "このユーザーとはメッセージのやりとりができません。"


def test_a_contract_under_way_goes_on_after_a_block(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    Block.objects.create(blocker=client_user, blocked=worker, created_at=clock.now())
    assert send(contract.thread, worker, "本日納品予定です。").body == "本日納品予定です。"


# --- the structured kinds ------------------------------------------------------------------------------------------


def test_progress_comment_and_delay_reason_pass_the_guard(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    thread = contract.thread
    before = Message.objects.count()
    with pytest.raises(ContactHeld) as refused:
        message_send_progress(thread=thread, sender=worker, percent=40, next_date=clock.today(),
                              comment=f"続きは LINE ID: {LINE_ID} にお送りします")
    assert refused.value.field == "comment"
    with pytest.raises(ContactHeld) as refused:
        message_send_delay(thread=thread, sender=worker, late_item="写真の挿入", new_date=clock.today(),
                           reason="詳細は 090-1234-5678 にお電話ください")
    assert refused.value.field == "reason"
    assert Message.objects.count() == before
    assert GuardHold.objects.filter(user=worker, surface="message").count() == 2

    ok = message_send_progress(thread=thread, sender=worker, percent=40, next_date=clock.today(), comment="順調です")
    assert ok.body == "順調です"

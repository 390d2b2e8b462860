"""The e-mail outbox (PRODUCT.md §9, ARCHITECTURE rule 6): what `notify()` decides, what the worker sends,
the 10-minute delay and the one-per-thread-per-hour rule for unread messages, preferences, retries."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from anshin import rules as numbers
from anshin.messaging.services import message_send, thread_create, thread_mark_read
from anshin.notifications import mailer, rules
from anshin.notifications.models import Notification
from anshin.notifications.services import email_preferences_update, notifications_mark_read, notify

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
State = Notification.EmailState


@pytest.fixture
def travel():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def thread(client_user, worker):
    return thread_create(kind="application", subject="応募: ロゴデザイン", members=[client_user, worker])


def tell(user, kind="contract.fund", key="k1", **extra):
    return notify(user=user, kind=kind, title="「ロゴデザイン」仮払い済み", body="作業を開始してください。",
                  url="/contracts/1/", dedupe_key=key, **extra)


def mails_to(outbox, user):
    return [m for m in outbox if m.to == [user.email]]


# --- notify() decides ---------------------------------------------------------------------------------------

def test_a_deal_event_is_emailed_once_and_marked_sent(worker, mailoutbox, travel):
    row = tell(worker)
    assert row.email_state == State.PENDING and row.email_due_at == START
    assert mailer.drain() == {"sent": 1}
    row.refresh_from_db()
    assert row.email_state == State.SENT and row.emailed_at == START and row.email_due_at is None
    assert row.email_attempts == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [worker.email] and "仮払い済み" in mail.subject
    assert mail.extra_headers["Message-ID"] == mailer.message_id(row)
    assert mailer.drain() == {}  # nothing twice
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=row.pk).read_at is None  # the in-app row is untouched


def test_the_same_dedupe_key_queues_one_mail(worker, mailoutbox, travel):
    tell(worker, key="same")
    tell(worker, key="same")
    mailer.drain()
    assert len(mailoutbox) == 1


def test_message_id_is_stable_per_row_and_unique_across_rows(worker, travel):
    a, b = tell(worker, key="a"), tell(worker, key="b")
    assert mailer.message_id(a) == mailer.message_id(Notification.objects.get(pk=a.pk))
    assert mailer.message_id(a) != mailer.message_id(b)
    assert mailer.message_id(a).startswith(f"<notification-{a.pk}.") and mailer.message_id(a).endswith(
        "@anshin.example>")


def test_in_app_only_kinds_are_never_mailed(worker, mailoutbox, travel):
    row = tell(worker, kind="report.received")
    assert row.email_state == State.NONE and row.email_due_at is None
    mailer.drain()
    assert mailoutbox == []
    assert Notification.objects.filter(user=worker, kind="report.received").exists()
    # a row queued before its kind became in-app only is looked at once more, then left alone
    Notification.objects.filter(pk=row.pk).update(email_state=State.PENDING, email_due_at=START)
    assert mailer.drain() == {"none": 1}
    assert mailoutbox == []
    assert Notification.objects.get(pk=row.pk).email_due_at is None


# --- preferences ---------------------------------------------------------------------------------------------

def test_a_group_switched_off_is_not_mailed_but_still_in_app(worker, mailoutbox, travel):
    email_preferences_update(user=worker, choices={"deals": False})
    row = tell(worker, kind="order.deliver")
    assert row.email_state == State.OFF and row.email_due_at is None
    mailer.drain()
    assert mailoutbox == []
    assert Notification.objects.filter(pk=row.pk, read_at__isnull=True).exists()
    # other groups still go
    tell(worker, kind="scout.received", key="k2")
    mailer.drain()
    assert len(mailoutbox) == 1


def test_switching_off_also_stops_a_mail_still_waiting(client_user, worker, thread, mailoutbox, travel):
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    email_preferences_update(user=client_user, choices={"messages": False})
    travel.shift(numbers.UNREAD_MESSAGE_EMAIL_AFTER)
    assert mailer.drain() == {"off": 1}
    assert mailoutbox == []


def test_reminders_money_and_account_mail_cannot_be_switched_off(worker, mailoutbox, travel):
    switchable = {g.key: False for g in rules.GROUPS if g.switchable}
    email_preferences_update(user=worker, choices=switchable)
    tell(worker, kind="contract.inspection_reminder", key="r1")
    tell(worker, kind="message.nudge", key="r2")
    tell(worker, kind="withdrawal.paid", key="r3")
    tell(worker, kind="account.warning", key="r4")
    tell(worker, kind="contract.fund", key="r5")
    assert mailer.drain() == {"sent": 4}
    assert len(mailoutbox) == 4
    for group in ("reminders", "money", "account"):
        with pytest.raises(Exception) as refused:
            email_preferences_update(user=worker, choices={group: False})
        assert refused.value.code == "not_switchable"


# --- unread messages: 10 minutes, one per thread per hour -----------------------------------------------------

def test_an_unread_message_is_mailed_ten_minutes_later(client_user, worker, thread, mailoutbox, travel):
    message_send(thread=thread, sender=worker, body="ロゴの初稿をお送りします。")
    row = Notification.objects.get(user=client_user, kind="message")
    assert row.email_due_at == START + numbers.UNREAD_MESSAGE_EMAIL_AFTER
    mailer.drain()
    travel.shift(numbers.UNREAD_MESSAGE_EMAIL_AFTER - timedelta(seconds=1))
    mailer.drain()
    assert mailoutbox == []
    travel.shift(timedelta(seconds=1))
    assert mailer.drain() == {"sent": 1}
    (mail,) = mailoutbox
    assert mail.to == [client_user.email]
    assert "山田花子さんから新着メッセージ" in mail.subject
    assert "ロゴの初稿をお送りします。" in mail.body
    assert f"/messages/{thread.pk}/" in mail.body
    assert Notification.objects.filter(user=worker, kind="message").count() == 0  # not to the sender


def test_a_message_read_within_ten_minutes_is_not_mailed(client_user, worker, thread, mailoutbox, travel):
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    travel.shift(timedelta(minutes=3))
    thread_mark_read(thread=thread, user=client_user)
    travel.shift(timedelta(minutes=7))
    assert mailer.drain() == {"read": 1}
    assert mailoutbox == []
    row = Notification.objects.get(user=client_user, kind="message")
    assert row.email_state == State.READ and row.email_due_at is None  # never looked at again
    travel.shift(timedelta(hours=2))
    assert mailer.drain() == {}


def test_opening_the_notification_counts_as_read(client_user, worker, thread, mailoutbox, travel):
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    row = Notification.objects.get(user=client_user, kind="message")
    notifications_mark_read(user=client_user, notification_id=row.pk)
    travel.shift(numbers.UNREAD_MESSAGE_EMAIL_AFTER)
    mailer.drain()
    assert mailoutbox == []


def test_at_most_one_mail_per_thread_per_hour(client_user, worker, thread, mailoutbox, travel):
    other = thread_create(kind="application", subject="応募: バナー", members=[client_user, worker])
    sent_at = {}

    def say(body, at, where=thread):
        travel.move_to(START + at)
        message_send(thread=where, sender=worker, body=body)
        sent_at[body] = at

    def drain_at(at):
        travel.move_to(START + at)
        return mailer.drain()

    say("1通目", timedelta(0))
    say("2通目", timedelta(minutes=5))
    assert drain_at(timedelta(minutes=10)) == {"sent": 1}  # the first, 10 min after it was sent
    assert drain_at(timedelta(minutes=15)) == {"throttled": 1}  # the second: dropped from e-mail
    say("3通目", timedelta(minutes=30))
    say("別スレッド", timedelta(minutes=31), where=other)
    assert drain_at(timedelta(minutes=41)) == {"throttled": 1, "sent": 1}  # another thread is its own hour
    say("4通目", timedelta(minutes=60))
    assert drain_at(timedelta(minutes=70)) == {"sent": 1}  # exactly one hour after the first mail
    bodies = [next(b for b in sent_at if b in m.body) for m in mailoutbox]
    assert bodies == ["1通目", "別スレッド", "4通目"]
    # every message is still in the centre
    assert Notification.objects.filter(user=client_user, kind="message").count() == 5
    assert set(Notification.objects.filter(user=client_user, kind="message").values_list(
        "email_state", flat=True)) == {State.SENT, State.THROTTLED}
    assert Notification.objects.filter(email_due_at__isnull=False).count() == 0


def test_the_worker_sends_reminders_written_by_the_same_tick(worker, mailoutbox, travel):
    tell(worker, kind="test_task.reminder", key="t1")
    out = StringIO()
    call_command("tick", stdout=out)
    assert "mail: 1 sent" in out.getvalue()
    assert len(mailoutbox) == 1 and "【Anshin・要対応】" in mailoutbox[0].subject
    tell(worker, kind="contract.fund", key="t2")
    call_command("tick", "--no-mail", stdout=StringIO())
    assert len(mailoutbox) == 1
    out = StringIO()
    call_command("mailer", stdout=out)
    assert len(mailoutbox) == 2 and "1 sent" in out.getvalue()


# --- failures: retried with backoff, then given up ------------------------------------------------------------

def test_a_failing_server_is_retried_with_backoff_then_given_up(worker, settings, mailoutbox, travel):
    settings.EMAIL_BACKEND = "tests.notifications.backends.Unreachable"
    row = tell(worker)
    waited = timedelta(0)
    for attempt in range(1, rules.EMAIL_MAX_ATTEMPTS):
        assert mailer.drain() == {"retry": 1}
        row.refresh_from_db()
        assert row.email_attempts == attempt and row.email_state == State.PENDING
        assert row.email_due_at == START + waited + rules.backoff(attempt)
        assert "SMTPServerDisconnected" in row.email_error
        assert mailer.drain() == {}  # not before its time
        waited += rules.backoff(attempt)
        travel.move_to(START + waited)
    assert mailer.drain() == {"failed": 1}
    row.refresh_from_db()
    assert row.email_state == State.FAILED and row.email_due_at is None and row.emailed_at is None


def test_a_retry_that_succeeds_sends_once(worker, settings, mailoutbox, travel):
    settings.EMAIL_BACKEND = "tests.notifications.backends.Unreachable"
    row = tell(worker)
    assert mailer.drain() == {"retry": 1}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    travel.shift(rules.backoff(1))
    assert mailer.drain() == {"sent": 1}
    row.refresh_from_db()
    assert row.email_attempts == 2 and row.email_state == State.SENT and row.email_error == ""
    assert len(mailoutbox) == 1


def test_a_refused_address_is_given_up_at_once(worker, settings, travel):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RefusesRecipients"
    row = tell(worker)
    assert mailer.drain() == {"failed": 1}
    row.refresh_from_db()
    assert row.email_state == State.FAILED and row.email_attempts == 1

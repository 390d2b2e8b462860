"""E-mail that reaches people: the outbox worker talks SMTP to a real server started by the test on loopback
(aiosmtpd), and the message read back has the Japanese subject and body, the link and the Message-ID."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin import rules as numbers
from anshin.messaging.services import message_send, thread_create
from anshin.notifications import mailer
from anshin.notifications.models import Notification
from anshin.notifications.services import notify
from tests.notifications.smtp import smtp_server

pytestmark = pytest.mark.django_db


def subject(mail) -> str:
    """The decoded Subject (RFC 2047, UTF-8). Django folds a long encoded subject onto the next line
    ("Subject:\\n =?utf-8?b?...?="), which the parser keeps as one leading space; mail clients trim it."""
    return str(mail["Subject"]).strip()


@pytest.fixture
def smtp(settings):
    with smtp_server() as (host, port, mailbox):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        settings.ANSHIN_SITE_URL = "https://anshin.example.jp"
        yield mailbox


def test_a_notification_arrives_over_smtp(worker, smtp):
    row = notify(user=worker, kind="contract.deliver", title="「ロゴデザイン」納品されました",
                 body="山田花子さんが納品しました。12月8日までに検収してください。", url="/contracts/42/",
                 dedupe_key="contract:42:deliver")
    assert mailer.drain() == {"sent": 1}

    (mail,) = smtp.messages()
    assert b"=?utf-8?b?" in smtp.received[0] and "Anshin】".encode() not in smtp.received[0]  # encoded on the wire
    assert mail["To"] == "worker@example.com"
    assert mail["From"] == "Anshin <no-reply@anshin.example>"
    assert subject(mail) == "【Anshin】「ロゴデザイン」納品されました"
    assert mail["Message-ID"] == mailer.message_id(row)
    assert re.fullmatch(rf"<notification-{row.pk}\.[0-9a-f]{{16}}@anshin\.example>", mail["Message-ID"])
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",)).get_content()  # decoded from its transfer encoding and charset
    assert "山田花子 様" in text and "12月8日までに検収してください。" in text
    assert "https://anshin.example.jp/contracts/42/" in text
    html = mail.get_body(("html",)).get_content()
    assert 'href="https://anshin.example.jp/contracts/42/"' in html and "納品されました" in html
    row.refresh_from_db()
    assert row.emailed_at is not None and row.email_state == Notification.EmailState.SENT


def test_an_unread_message_arrives_over_smtp_ten_minutes_later(client_user, worker, smtp):
    thread = thread_create(kind="application", subject="応募: ロゴデザイン", members=[client_user, worker])
    start = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with time_machine.travel(start, tick=False) as traveller:
        message_send(thread=thread, sender=worker, body="初稿ができました。ご確認をお願いいたします。")
        assert mailer.drain() == {}
        assert smtp.received == []
        traveller.shift(numbers.UNREAD_MESSAGE_EMAIL_AFTER)
        assert mailer.drain() == {"sent": 1}
    (mail,) = smtp.messages()
    assert mail["To"] == "client@example.com"
    assert subject(mail) == "【Anshin】山田花子さんから新着メッセージ（未読）"
    text = mail.get_body(("plain",)).get_content()
    assert "初稿ができました。ご確認をお願いいたします。" in text
    assert f"https://anshin.example.jp/messages/{thread.pk}/" in text

"""Messages (PRODUCT.md §4) at the service level: receipts per recipient, read marks, unread counts,
attachment limits, and no posting into other people's threads."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from anshin import rules
from anshin.core.errors import DomainError
from anshin.messaging.models import Attachment, Message, Receipt, Thread
from anshin.messaging.services import (
    message_post_system,
    message_send,
    thread_create,
    thread_mark_read,
    unread_count,
)
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
START = datetime(2026, 7, 19, 10, 31, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def thread(client_user, worker):
    return thread_create(kind="application", subject="応募: ロゴデザイン", members=[client_user, worker])


def snapshot() -> dict:
    return {
        "messages": Message.objects.count(),
        "receipts": sorted(Receipt.objects.values_list("pk", "read_at")),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
        "threads": sorted(Thread.objects.values_list("pk", "last_message_at", "last_human_message")),
    }


def assert_refused(call, code: str) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert refused.value.code == code
    assert JAPANESE.search(refused.value.message), refused.value.message
    assert snapshot() == before
    return refused.value


def upload(name: str, size: int = 10, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"x" * size, content_type=content_type)


# --- receipts -------------------------------------------------------------------------------------------------

def test_a_message_gets_a_receipt_for_the_recipient_only(thread, client_user, worker):
    message = message_send(thread=thread, sender=worker, body="はじめまして。")
    assert list(message.receipts.values_list("user_id", "read_at")) == [(client_user.pk, None)]
    thread.refresh_from_db()
    assert thread.last_human_message == message
    assert thread.last_message_at == message.created_at
    note = Notification.objects.get(user=client_user, kind="message")
    assert note.url == f"/messages/{thread.pk}/"
    assert not Notification.objects.filter(user=worker).exists()


def test_unread_counts_and_marking_a_thread_read(thread, client_user, worker):
    with time_machine.travel(START, tick=False) as clock:
        message_send(thread=thread, sender=worker, body="1通目")
        message_send(thread=thread, sender=worker, body="2通目")
        message_send(thread=thread, sender=client_user, body="返信です")
        assert unread_count(client_user) == 2
        assert unread_count(worker) == 1

        clock.shift(timedelta(hours=1))
        assert thread_mark_read(thread=thread, user=client_user) == 2
        assert unread_count(client_user) == 0
        assert unread_count(worker) == 1  # reading my side marks nothing of theirs
        read_at = set(Receipt.objects.filter(user=client_user).values_list("read_at", flat=True))
        assert read_at == {START + timedelta(hours=1)}

        clock.shift(timedelta(hours=1))
        assert thread_mark_read(thread=thread, user=client_user) == 0  # the first read time is kept
        assert set(Receipt.objects.filter(user=client_user).values_list("read_at", flat=True)) == read_at


def test_marking_read_is_per_thread(client_user, worker, thread):
    other = thread_create(kind="application", subject="別件", members=[client_user, worker])
    message_send(thread=thread, sender=worker, body="こちら")
    message_send(thread=other, sender=worker, body="あちら")
    thread_mark_read(thread=thread, user=client_user)
    assert unread_count(client_user) == 1
    assert Receipt.objects.get(user=client_user, read_at__isnull=True).message.thread == other


def test_system_messages_count_as_unread_for_every_member_but_do_not_change_who_waits(thread, client_user, worker):
    human = message_send(thread=thread, sender=worker, body="ご確認ください")
    system = message_post_system(thread=thread, body="仮払いが完了しました。")
    assert set(system.receipts.values_list("user_id", flat=True)) == {client_user.pk, worker.pk}
    assert system.sender is None
    thread.refresh_from_db()
    assert thread.last_human_message == human
    assert thread.last_message_at == system.created_at
    assert unread_count(client_user) == 2
    assert unread_count(worker) == 1


# --- who may post -----------------------------------------------------------------------------------------------

def test_a_non_member_cannot_post_into_a_thread(thread, stranger):
    error = assert_refused(lambda: message_send(thread=thread, sender=stranger, body="こんにちは"), code="not_found")
    assert error.status == 404


def test_a_non_party_cannot_post_into_a_contract_thread(client_user, worker, stranger):
    c = factories.contract(client_user, worker, state="offered")
    error = assert_refused(lambda: message_send(thread=c.thread, sender=stranger, body="割り込み"), code="not_found")
    assert error.status == 404


def test_an_operator_can_post_and_both_parties_get_receipts(thread, operator, client_user, worker):
    message = message_send(thread=thread, sender=operator, body="事務局です。ご連絡いたします。")
    assert set(message.receipts.values_list("user_id", flat=True)) == {client_user.pk, worker.pk}


# --- bad input --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "code"), [
    ({"body": ""}, "empty"),
    ({"body": "  \n\t "}, "empty"),
    ({"body": None}, "empty"),
    ({"body": "あ" * (rules.MESSAGE_MAX_LENGTH + 1)}, "too_long"),
    ({"body": "見てください", "files": [upload("setup.exe")]}, "file_type"),
    ({"body": "見てください", "files": [upload("script.JS")]}, "file_type"),
    ({"body": "見てください", "files": [upload("page.html", content_type="text/plain")]}, "file_type"),
    ({"body": "見てください", "files": [upload("big.zip", rules.ATTACHMENT_MAX_BYTES + 1)]}, "file_too_large"),
    ({"body": "見てください", "files": [upload("empty.txt", 0)]}, "file_empty"),
    ({"body": "見てください", "files": [upload(f"{i}.pdf") for i in range(rules.ATTACHMENT_MAX_FILES + 1)]},
     "too_many_files"),
])
def test_bad_messages_are_refused_and_change_nothing(thread, worker, kwargs, code):
    assert_refused(lambda: message_send(thread=thread, sender=worker, **kwargs), code=code)


def test_attachments_up_to_the_limits_are_saved_with_the_type_of_their_extension(thread, worker, settings):
    files = [upload("a.pdf", rules.ATTACHMENT_MAX_BYTES, content_type="text/html")] + [
        upload(f"photo{i}.PNG") for i in range(rules.ATTACHMENT_MAX_FILES - 1)]
    message = message_send(thread=thread, sender=worker, body="", files=files)
    attachments = list(message.attachments.order_by("id"))
    assert len(attachments) == rules.ATTACHMENT_MAX_FILES
    assert attachments[0].content_type == "application/pdf"  # never the type the browser claimed
    assert attachments[0].size == rules.ATTACHMENT_MAX_BYTES
    assert {a.content_type for a in attachments[1:]} == {"image/png"}
    assert all(a.file.name.startswith(f"attachments/{worker.pk}/{a.token}/") for a in attachments)
    assert len({a.token for a in attachments}) == len(attachments)
    assert (settings.MEDIA_ROOT / attachments[0].file.name).stat().st_size == rules.ATTACHMENT_MAX_BYTES


def test_an_uploaded_file_name_cannot_escape_the_attachment_folder(thread, worker):
    message = message_send(thread=thread, sender=worker, body="", files=[upload("../../etc/passwd.txt")])
    attachment = message.attachments.get()
    assert attachment.name == "passwd.txt"
    assert ".." not in attachment.file.name

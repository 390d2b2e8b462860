"""Threads and messages: send, system posts, read receipts, attachments."""

import os
import secrets

from django.db import transaction

from anshin import rules
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.messaging.models import Attachment, Message, Receipt, Thread, ThreadMember
from anshin.notifications.services import notify


def thread_create(*, kind: str, subject: str, members, application=None, contract=None) -> Thread:
    now = clock.now()
    thread = Thread.objects.create(kind=kind, subject=subject[:150], application=application, contract=contract,
                                   created_at=now, last_message_at=now)
    ThreadMember.objects.bulk_create([ThreadMember(thread=thread, user=user) for user in members])
    return thread


def attachments_validate(files) -> None:
    """Refuse the whole upload if any file is too big, of a type we do not accept, or too many."""
    files = list(files or [])
    if len(files) > rules.ATTACHMENT_MAX_FILES:
        raise DomainError("too_many_files", f"添付できるファイルは{rules.ATTACHMENT_MAX_FILES}個までです。")
    limit_mb = rules.ATTACHMENT_MAX_BYTES // (1024 * 1024)
    for f in files:
        ext = os.path.splitext(f.name)[1].lower()
        if ext not in rules.ATTACHMENT_TYPES:
            allowed = "、".join(sorted(e.lstrip(".") for e in rules.ATTACHMENT_TYPES))
            raise DomainError("file_type", f"「{f.name}」は添付できない形式です（添付できる形式: {allowed}）。")
        if f.size > rules.ATTACHMENT_MAX_BYTES:
            raise DomainError("file_too_large", f"「{f.name}」は大きすぎます（1ファイル{limit_mb}MBまで）。")
        if f.size == 0:
            raise DomainError("file_empty", f"「{f.name}」は空のファイルです。")


def attachments_save(*, files, uploaded_by, message=None, delivery=None) -> list[Attachment]:
    saved = []
    for f in files or []:
        ext = os.path.splitext(f.name)[1].lower()
        attachment = Attachment(
            token=secrets.token_hex(16), uploaded_by=uploaded_by, message=message, delivery=delivery,
            name=os.path.basename(f.name)[:200], size=f.size, content_type=rules.ATTACHMENT_TYPES[ext],
            created_at=clock.now(),
        )
        attachment.file.save(f"file{ext}", f, save=False)
        attachment.save()
        saved.append(attachment)
    return saved


def _deliver(thread: Thread, message: Message, recipients) -> None:
    Receipt.objects.bulk_create([Receipt(message=message, user=user) for user in recipients])
    thread.last_message_at = message.created_at
    fields = ["last_message_at"]
    if message.kind != Message.Kind.SYSTEM:
        thread.last_human_message = message
        fields.append("last_human_message")
    thread.save(update_fields=fields)


def message_send(*, thread: Thread, sender, body: str, files=()) -> Message:
    body = (body or "").strip()
    if not body and not files:
        raise DomainError("empty", "メッセージを入力してください。")
    if len(body) > rules.MESSAGE_MAX_LENGTH:
        raise DomainError("too_long", f"メッセージは{rules.MESSAGE_MAX_LENGTH:,}文字以内で入力してください。")
    attachments_validate(files)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        members = list(thread.members.select_related("user"))
        if sender.pk not in {m.user_id for m in members} and not sender.is_operator:
            raise NotFound()
        message = Message.objects.create(thread=thread, sender=sender, body=body, created_at=clock.now())
        attachments_save(files=files, uploaded_by=sender, message=message)
        recipients = [m.user for m in members if m.user_id != sender.pk]
        _deliver(thread, message, recipients)
        for user in recipients:
            notify(user=user, kind="message", title=f"{sender.name}さんから新着メッセージ", body=body[:200],
                   url=f"/messages/{thread.pk}/", dedupe_key=f"message:{message.pk}:{user.pk}")
    return message


def message_post_system(*, thread: Thread, body: str) -> Message:
    """A state change told in the thread; everyone in it gets a receipt (so it counts as unread)."""
    message = Message.objects.create(thread=thread, sender=None, kind=Message.Kind.SYSTEM, body=body,
                                     created_at=clock.now())
    _deliver(thread, message, [m.user for m in thread.members.select_related("user")])
    return message


def thread_mark_read(*, thread: Thread, user) -> int:
    """Mark everything in the thread read by `user`; returns how many receipts changed."""
    return Receipt.objects.filter(message__thread=thread, user=user, read_at__isnull=True).update(read_at=clock.now())


def unread_count(user) -> int:
    return Receipt.objects.filter(user=user, read_at__isnull=True).count()

"""Threads and messages: send, system posts, read receipts, attachments; the structured kinds (progress
reports, delay notices, one-click acknowledgements) and 返信催促 nudges with their escalation timer.

Every text a person sends passes the contact guard (PRODUCT.md §6): contact details without an approved
サービス外連絡申請 in the thread hold the message (`trust.permits.ContactHeld`, a hold logged outside the
refused transaction) unless the sender chose to send them masked (●●●); scam signals deliver it with a
caution for the recipients and a flag for the operators. Operators are exempt. Senders restricted by the
operators cannot write; nor can members blocked by (or blocking) the other side, except in the thread of a
contract or order still under way (see `sender_check`)."""

import os
import secrets
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from anshin import rules
from anshin.accounts.figures import figures_touch
from anshin.core import bulk, clock, timers
from anshin.core.calendar import add_business_days
from anshin.core.errors import DomainError, NotFound
from anshin.messaging.models import Attachment, Message, Nudge, Receipt, Thread, ThreadMember
from anshin.notifications.services import notify
from anshin.trust import contact_guard
from anshin.trust.holds import hold_record
from anshin.trust.permits import ContactHeld, scam_labels, thread_has_permit


def thread_create(*, kind: str, subject: str, members, application=None, contract=None, order=None) -> Thread:
    now = clock.now()
    thread = Thread.objects.create(kind=kind, subject=subject[:150], application=application, contract=contract,
                                   order=order, created_at=now, last_message_at=now)
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
    # kept on the message as its prefetched receipts: the API answers with them without reading them back
    message.prefetched_receipts = Receipt.objects.bulk_create([Receipt(message=message, user=user)
                                                               for user in recipients])
    figures_touch([message.sender_id, *(user.pk for user in recipients)])  # response rate, reply times
    thread.last_message_at = message.created_at
    fields = ["last_message_at"]
    if message.kind != Message.Kind.SYSTEM:
        thread.last_human_message = message
        fields.append("last_human_message")
        _nudges_answered(thread, message)
    thread.save(update_fields=fields)


def sender_check(*, user, thread: Thread, others) -> None:
    """Refuse a member who may not write to `others` now: restricted by the operators, or a block between them
    (either direction). Operators are never refused. A block stops every conversation between the two except
    the thread of a contract or order still under way: that deal goes on (a block cancels nothing; trouble
    goes to the operators, who can restrict messaging)."""
    if getattr(user, "is_operator", False):
        return
    if user.messaging_restricted_at:
        raise DomainError("messaging_restricted", "事務局によりメッセージの送信が制限されています。", status=403)
    if any(_blocked_between(user.pk, other.pk) for other in others) and not deal_is_open(thread):
        raise DomainError("blocked", "このユーザーとはメッセージのやりとりができません。", status=403)


def _blocked_between(a_id: int, b_id: int) -> bool:
    from anshin.trust.blocks import blocked_between

    return blocked_between(a_id, b_id)


def _scan(sender, text: str) -> contact_guard.GuardResult:
    """The guard's findings for a person's text; operators (事務局) are exempt."""
    if not text or getattr(sender, "is_operator", False):
        return contact_guard.GuardResult()
    return contact_guard.scan(text)


def _contact_held(thread: Thread, result: contact_guard.GuardResult, text: str, field: str = "body"):
    """A ContactHeld to raise once out of the transaction, or None when the text may go (no contact details, or
    an approved permit in this thread — read under the thread lock, so a revocation applies at once)."""
    if not result.contact or thread_has_permit(thread):
        return None
    return ContactHeld(text=text, spans=result.contacts, masked=contact_guard.mask(text, result.contacts),
                       field=field)


def _hold(sender, thread: Thread, held: ContactHeld):
    """Log the hold (its own transaction: it must survive the refusal) and refuse."""
    hold_record(user=sender, surface="message", text=held.text, spans=held.spans, thread=thread)
    raise held


def _caution_flag(message: Message, thread: Thread, sender) -> None:
    """Scam signals: the message is delivered (the recipients see 事務局からの注意) and the operators get a flag."""
    if not message.caution:
        return
    from anshin.ops.models import QueueItem
    from anshin.ops.services import ops_due, queue_item_open

    queue_item_open(
        kind=QueueItem.Kind.GUARD_FLAG, subject=message, concerns=sender, due_at=ops_due(message.created_at),
        summary=f"{sender.name}さんのメッセージに詐欺の兆候（{scam_labels(message.caution)}）: {thread.subject}",
        dedupe_key=f"guard:scam:{message.pk}",
        payload={"reason": "scam", "kinds": list(message.caution), "thread_id": thread.pk, "message_id": message.pk},
    )


def message_precheck(*, sender, text: str, thread_id: int | None = None, field: str = "body") -> None:
    """For services that send a message inside their own transaction (an application, a scout, a test task,
    an order delivery): hold contact details *before* that transaction opens, so the hold record survives the
    refusal. `thread_id` is None for a thread that does not exist yet (no permit can apply)."""
    result = _scan(sender, (text or "").strip())
    if not result.contact:
        return
    thread = Thread.objects.filter(pk=thread_id).first() if thread_id else None
    if thread is not None and thread_has_permit(thread):
        return
    held = ContactHeld(text=(text or "").strip(), spans=result.contacts,
                       masked=contact_guard.mask((text or "").strip(), result.contacts), field=field)
    hold_record(user=sender, surface="message", text=held.text, spans=held.spans, thread=thread)
    raise held


def message_send(*, thread: Thread, sender, body: str, files=(), mask_contacts: bool = False) -> Message:
    """Send a message. Contact details without an approved permit in the thread: held (`ContactHeld`, nothing
    stored but the hold) unless `mask_contacts`, which sends it with each of them replaced by ●●●."""
    body = (body or "").strip()
    if not body and not files:
        raise DomainError("empty", "メッセージを入力してください。")
    if len(body) > rules.MESSAGE_MAX_LENGTH:
        raise DomainError("too_long", f"メッセージは{rules.MESSAGE_MAX_LENGTH:,}文字以内で入力してください。")
    attachments_validate(files)
    result = _scan(sender, body)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        members = list(thread.members.select_related("user"))
        if sender.pk not in {m.user_id for m in members} and not sender.is_operator:
            raise NotFound()
        recipients = [m.user for m in members if m.user_id != sender.pk]
        sender_check(user=sender, thread=thread, others=recipients)
        held = _contact_held(thread, result, body)
        if held is None or mask_contacts:
            masked = held is not None
            if masked:
                body = held.masked
            message = Message.objects.create(thread=thread, sender=sender, body=body, created_at=clock.now(),
                                             masked=masked, caution=sorted({s.kind for s in result.scams}))
            message.prefetched_files = attachments_save(files=files, uploaded_by=sender, message=message)
            # orders: the seller's first word in `purchased` is a 返答 that stops the 48 h auto-cancel (same
            # transaction).
            if thread.order_id:
                from anshin.orders.services import order_seller_wrote

                order_seller_wrote(order_id=thread.order_id, user=sender)  # a no-op unless the sender is the seller
            _deliver(thread, message, recipients)
            _caution_flag(message, thread, sender)
            for user in recipients:
                notify(user=user, kind="message", title=f"{sender.name}さんから新着メッセージ", body=body[:200],
                       url=f"/messages/{thread.pk}/", dedupe_key=f"message:{message.pk}:{user.pk}",
                       message=message)  # e-mailed only if still unread after 10 min, ≤ 1 per thread per hour
            return message
    _hold(sender, thread, held)


def message_post_system(*, thread: Thread, body: str) -> Message:
    """A state change told in the thread; everyone in it gets a receipt (so it counts as unread)."""
    message = Message.objects.create(thread=thread, sender=None, kind=Message.Kind.SYSTEM, body=body,
                                     created_at=clock.now())
    _deliver(thread, message, [m.user for m in thread.members.select_related("user")])
    return message


def messages_post_system(posts: list[tuple[Thread, str]]) -> None:
    """`message_post_system` for many threads at once (the clock settling a batch of deals), in a fixed number
    of queries: the messages, every member's receipt, the threads' last_message_at, the figures touched."""
    now = clock.now()
    message_ids = bulk.insert(Message, [dict(thread=thread, sender=None, kind=Message.Kind.SYSTEM, body=body,
                                             created_at=now) for thread, body in posts], ids=True)
    members: dict[int, list[int]] = {}
    for thread_id, user_id in ThreadMember.objects.filter(thread_id__in=[t.pk for t, _ in posts]).values_list(
            "thread_id", "user_id").order_by("id"):
        members.setdefault(thread_id, []).append(user_id)
    bulk.insert(Receipt, [dict(message_id=message_id, user_id=user_id)
                          for message_id, (thread, _) in zip(message_ids, posts, strict=True)
                          for user_id in members.get(thread.pk, [])])
    figures_touch({user_id for ids in members.values() for user_id in ids})
    Thread.objects.filter(pk__in=[thread.pk for thread, _ in posts]).update(last_message_at=now)
    for thread, _ in posts:
        thread.last_message_at = now


def thread_mark_read(*, thread: Thread, user) -> int:
    """Mark everything in the thread read by `user`; returns how many receipts changed."""
    return Receipt.objects.filter(message__thread=thread, user=user, read_at__isnull=True).update(read_at=clock.now())


def unread_count(user) -> int:
    return Receipt.objects.filter(user=user, read_at__isnull=True).count()


# --- structured messages: progress, delay, acknowledgement -----------------------------------------------

COMMENT_MAX_LENGTH = 2_000  # the comment of a progress report, the reason of a delay notice


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def ack_text(reply_by: date) -> str:
    return f"メッセージを確認しました。{month_day(reply_by)}までにお返事します。"


def message_headline(message: Message) -> str:
    """One line that says what a structured message is (inbox excerpt, notification, deal timeline)."""
    if message.kind == Message.Kind.PROGRESS:
        return f"進捗報告: {message.progress_percent}%完了（次回のプレビュー予定: {month_day(message.next_date)}）"
    if message.kind == Message.Kind.DELAY:
        return f"遅延のお知らせ: {message.late_item}（新しい見込み: {month_day(message.next_date)}）"
    return message.body


def _check_date(value, label: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise DomainError("invalid_date", f"{label}を日付で入力してください。")
    if value < clock.today():
        raise DomainError("date_in_past", f"{label}には今日以降の日付を指定してください。")
    return value


def _check_text(value, label: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError("required", f"{label}を入力してください。")
    if len(value) > limit:
        raise DomainError("too_long", f"{label}は{limit:,}文字以内で入力してください。")
    return value


def _lock_as_member(thread_id: int, user) -> tuple[Thread, list[ThreadMember]]:
    """The locked thread (with its deal) and its members; 404 for outsiders. Operators post as 事務局 with
    normal messages only: these tools speak for one side of the deal."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("contract", "order").filter(
        pk=thread_id).first()
    if thread is None:
        raise NotFound()
    members = list(thread.members.select_related("user"))
    if user.pk not in {m.user_id for m in members}:
        if user.is_operator:
            raise DomainError("members_only", "この操作はやりとりの当事者のみ行えます。", status=403)
        raise NotFound()
    sender_check(user=user, thread=thread, others=[m.user for m in members if m.user_id != user.pk])
    return thread, members


def deal_of(thread: Thread):
    """The contract or order the thread belongs to, or None (application and scout threads)."""
    return thread.contract if thread.contract_id else (thread.order if thread.order_id else None)


def deal_worker_id(thread: Thread) -> int | None:
    """The side that does the work: the contract's worker or the order's seller."""
    if thread.contract_id:
        return thread.contract.worker_id
    if thread.order_id:
        return thread.order.seller_id
    return None


def deal_is_open(thread: Thread) -> bool:
    deal = deal_of(thread)
    return deal is not None and deal.state not in deal.flow.terminal


def deal_update_refusal(thread: Thread, user) -> str:
    """Why `user` may not post a progress report or a delay notice here ("" when they may)."""
    if deal_of(thread) is None:
        return "進捗報告と遅延のお知らせは、契約または注文のやりとりでのみ送れます。"
    if deal_worker_id(thread) != user.pk:
        return "進捗報告と遅延のお知らせは、作業を担当する側（受注者・出品者）のみ送れます。"
    if not deal_is_open(thread):
        return "取引が終了しているため、進捗報告と遅延のお知らせは送れません。"
    return ""


def _post(thread: Thread, members, sender, kind: str, body: str, *, caution=(), **fields) -> Message:
    if thread.order_id:  # like `message_send`: the seller's acknowledgement or report is a word in the thread
        from anshin.orders.services import order_seller_wrote

        order_seller_wrote(order_id=thread.order_id, user=sender)  # a no-op unless the sender is the seller
    message = Message.objects.create(thread=thread, sender=sender, kind=kind, body=body, created_at=clock.now(),
                                     caution=sorted(caution), **fields)
    recipients = [m.user for m in members if m.user_id != sender.pk]
    _deliver(thread, message, recipients)
    _caution_flag(message, thread, sender)
    titles = {
        Message.Kind.PROGRESS: f"{sender.name}さんから進捗報告（{message.progress_percent}%）",
        Message.Kind.DELAY: f"{sender.name}さんから遅延のお知らせ",
        Message.Kind.ACK: f"{sender.name}さんがメッセージを確認しました",
    }
    text = message_headline(message)
    if kind != Message.Kind.ACK and body:
        text = f"{text}\n{body}"
    for user in recipients:
        notify(user=user, kind=f"message.{kind}", title=titles[kind], body=text[:200],
               url=f"/messages/{thread.pk}/", dedupe_key=f"message:{message.pk}:{user.pk}", message=message)
    return message


def message_send_progress(*, thread: Thread, sender, percent: int, next_date: date, comment: str = "") -> Message:
    """進捗報告 by the worker (seller) of an open contract (order): % done and the next preview date. The comment
    passes the contact guard like any message (held: `ContactHeld` on the field "comment")."""
    with transaction.atomic():
        thread, members = _lock_as_member(thread.pk, sender)
        if refusal := deal_update_refusal(thread, sender):
            raise DomainError("not_allowed", refusal, status=403)
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise DomainError("invalid_percent", "進捗は0〜100の整数（%）で入力してください。")
        next_date = _check_date(next_date, "次回のプレビュー予定日")
        comment = _check_text(comment, "コメント", required=False, limit=COMMENT_MAX_LENGTH)
        result = _scan(sender, comment)
        held = _contact_held(thread, result, comment, "comment")
        if held is None:
            return _post(thread, members, sender, Message.Kind.PROGRESS, comment, progress_percent=percent,
                         next_date=next_date, caution={s.kind for s in result.scams})
    _hold(sender, thread, held)


def message_send_delay(*, thread: Thread, sender, late_item: str, new_date: date, reason: str) -> Message:
    """遅延のお知らせ: an early warning by the worker (seller) — what is late, the new expected date, why. The
    texts pass the contact guard like any message."""
    with transaction.atomic():
        thread, members = _lock_as_member(thread.pk, sender)
        if refusal := deal_update_refusal(thread, sender):
            raise DomainError("not_allowed", refusal, status=403)
        late_item = _check_text(late_item, "遅れている作業", required=True, limit=100)
        new_date = _check_date(new_date, "新しい見込み日")
        reason = _check_text(reason, "理由", required=True, limit=COMMENT_MAX_LENGTH)
        result, item_result = _scan(sender, reason), _scan(sender, late_item)
        held = _contact_held(thread, result, reason, "reason") or _contact_held(thread, item_result, late_item,
                                                                                "late_item")
        if held is None:
            return _post(thread, members, sender, Message.Kind.DELAY, reason, late_item=late_item, next_date=new_date,
                         caution={s.kind for s in (*result.scams, *item_result.scams)})
    _hold(sender, thread, held)


def message_acknowledge(*, thread: Thread, sender, reply_by: date) -> Message:
    """「メッセージを確認しました。○月○日までにお返事します」 in one click. It is a reply: the inbox stops
    showing the sender as owing one, and their open nudges in the thread count as answered."""
    with transaction.atomic():
        thread, members = _lock_as_member(thread.pk, sender)
        reply_by = _check_date(reply_by, "返信予定日")
        last = Message.objects.filter(pk=thread.last_human_message_id).values_list("sender_id", flat=True).first()
        if last is None or last == sender.pk:
            raise DomainError("nothing_to_acknowledge", "確認する相手のメッセージがありません。")
        return _post(thread, members, sender, Message.Kind.ACK, ack_text(reply_by), next_date=reply_by)


# --- 返信催促 (nudges) and their escalation ------------------------------------------------------------------



def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def _nudges_answered(thread: Thread, message: Message) -> None:
    """Any message by the recipient of open nudges in this thread (normal, ack, progress, delay) answers
    them; one that has already escalated stays escalated (the queue item is the operators' to close)."""
    Nudge.objects.filter(thread=thread, recipient_id=message.sender_id, replied_at__isnull=True).update(
        replied_at=message.created_at, due_at=None)


def thread_nudge(*, thread: Thread, sender) -> Nudge:
    """返信催促: the waiting side reminds the other side. Allowed once the last word has been the sender's
    for `rules.NUDGE_AFTER`, at most once per `rules.NUDGE_EVERY` per thread; during an open contract or
    order it arms an escalation to the operators after `rules.NUDGE_ESCALATION_BUSINESS_DAYS` business days."""
    from anshin.messaging.selectors import nudge_refusal

    with transaction.atomic():
        thread, members = _lock_as_member(thread.pk, sender)
        others = [m.user for m in members if m.user_id != sender.pk]
        if not others:
            raise DomainError("no_counterpart", "催促する相手がいません。")
        recipient = others[0]  # threads are between two parties
        now = clock.now()
        last = Message.objects.filter(pk=thread.last_human_message_id).only("sender_id", "created_at").first()
        last_nudge = Nudge.objects.filter(thread=thread, sender=sender).order_by("-created_at").first()
        if refusal := nudge_refusal(user=sender, last_message=last, last_nudge=last_nudge, now=now):
            raise DomainError("nudge_not_allowed", refusal)
        escalate_at = None
        if deal_is_open(thread):
            # in Tokyo time: the calendar counts the dates of the datetime it is given
            escalate_at = add_business_days(now, rules.NUDGE_ESCALATION_BUSINESS_DAYS)
        nudge = Nudge.objects.create(thread=thread, sender=sender, recipient=recipient, created_at=now,
                                     escalate_at=escalate_at, due_at=escalate_at)
        text = f"{sender.name}さんが返信を催促しました。{recipient.name}さん、内容をご確認のうえお返事をお願いします。"
        if escalate_at:
            text += f"（{_local(escalate_at)}までに返信がない場合は事務局にお知らせします）"
        message_post_system(thread=thread, body=text)
        notify(user=recipient, kind="message.nudge", title=f"{sender.name}さんが返信を待っています",
               body=text, url=f"/messages/{thread.pk}/", dedupe_key=f"nudge:{nudge.pk}")
    return nudge


def nudge_settle_due(nudge_id: int) -> str | None:
    """Called by `tick` at `due_at`: if the recipient still has not replied during an open deal, record a
    queue item for the operators (once per nudge) and tell both sides. A reply, or a deal that has ended
    in the meantime, disarms the timer without escalating.

    Lock order is thread → nudge, the same as a reply (`message_send` locks the thread, then marks nudges),
    so a reply and the sweeper never deadlock: whoever locks first wins, the other sees its result."""
    from anshin.ops.services import queue_item_open

    now = clock.now()
    with transaction.atomic():
        thread_id = Nudge.objects.filter(pk=nudge_id, due_at__lte=now).values_list("thread_id", flat=True).first()
        if thread_id is None:
            return None
        thread = (timers.lock_for_update(Thread.objects.select_related("contract", "order"))
                  .filter(pk=thread_id).first())
        if thread is None:
            return None  # someone is writing in the thread right now: the next tick looks again
        nudge = (Nudge.objects.select_for_update(of=("self",)).select_related("sender", "recipient")
                 .filter(pk=nudge_id, due_at__lte=now).first())
        if nudge is None:
            return None  # answered or settled meanwhile
        nudge.due_at = None
        if nudge.replied_at or not deal_is_open(thread) or deal_of(thread).state == "disputed":
            # answered, over, or already with 事務局 as a dispute: nothing to escalate
            nudge.save(update_fields=["due_at"])
            return None
        days = rules.NUDGE_ESCALATION_BUSINESS_DAYS
        item = queue_item_open(
            kind="nudge_escalation", subject=thread, dedupe_key=f"nudge:{nudge.pk}", concerns=nudge.recipient,
            due_at=add_business_days(now, rules.OPS_QUEUE_DUE_BUSINESS_DAYS),
            summary=f"返信催促から{days}営業日、{nudge.recipient.name}さんの返信がありません: {thread.subject}",
            payload={"nudge_id": nudge.pk, "thread_id": thread.pk, "sender_id": nudge.sender_id,
                     "recipient_id": nudge.recipient_id, "nudged_at": nudge.created_at.isoformat()},
        )
        nudge.escalated_at = now
        nudge.save(update_fields=["due_at", "escalated_at"])
        text = (f"{nudge.sender.name}さんの返信催促から{days}営業日が経過しても返信がないため、"
                "事務局にお知らせしました。")
        message_post_system(thread=thread, body=text)
        for user in (nudge.recipient, nudge.sender):
            notify(user=user, kind="message.nudge_escalated", title="返信がないため事務局にお知らせしました",
                   body=text, url=f"/messages/{thread.pk}/", dedupe_key=f"nudge:{nudge.pk}:escalated:{user.pk}")
    return f"nudge {nudge_id}: escalated (queue item {item.pk})"


timers.register(Nudge, settle=nudge_settle_due)  # the nudge is the reminder: none of its own

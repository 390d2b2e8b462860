"""サービス外連絡申請 (PRODUCT.md §6, seed 003): either member of a thread asks the operators for leave to exchange
contact details there (purpose and tool), before or after a contract. An operator approves or denies within
`rules.PERMIT_DUE_BUSINESS_DAYS` business days (the queue item's due time; silence never approves). The
decision reason is internal: the parties learn the result only. An approved permit lets contact details
through the message guard in that one thread; operators may revoke one permit or every permit of a user, and
the guard applies again at once (`message_send` checks the permit under the same thread lock).

Lock order everywhere: thread, then permit (the same as `message_send`, which locks the thread)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from anshin import rules
from anshin.core import audit, clock, flows
from anshin.core.calendar import add_business_days
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.messaging.models import Thread
from anshin.notifications.services import notify
from anshin.trust.models import ContactPermit

LIVE_STATES = ("pending", "approved")
PERMIT_EXISTS = "このやりとりには、審査中または承認済みのサービス外連絡申請がすでにあります。"


class ContactHeld(DomainError):
    """A message with contact details in a thread without an approved permit: not sent (a hold is logged).

    `.text` is the text that was checked, `.spans` the contact details found in it (offsets into `.text`),
    `.masked` the same text with each of them replaced by ●●● — what 「連絡先を伏せて送信する」 would send.
    422 in the API: the request is well formed but its content cannot be delivered as it is; the same
    request is refused again until the text is edited or sent with `mask_contacts`."""

    status = 422

    def __init__(self, *, text: str, spans, masked: str, field: str = "body"):
        from anshin.trust.holds import kinds_text

        self.text = text
        self.spans = tuple(spans)
        self.masked = masked
        self.field = field
        super().__init__(
            "contact_held",
            f"外部の連絡先（{kinds_text(self.spans)}）が含まれているため、送信を保留しました。内容を修正するか、"
            "連絡先を伏せて送信してください。連絡先の交換が必要な場合は「サービス外連絡申請」をご利用ください。",
        )

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(s.kind for s in self.spans))

    def details(self) -> dict:
        return {
            "field": self.field,
            "spans": [{"start": s.start, "end": s.end, "kind": s.kind, "text": self.text[s.start:s.end]}
                      for s in self.spans],
            "masked": self.masked,
        }


# --- scam signals: what the recipient of a flagged message should watch for (「事務局からの注意」) -----------

SCAM_LABELS = {
    "leave_platform": "サービス外への誘導",
    "fee_evasion": "手数料を避ける直接取引の提案",
    "work_before_escrow": "仮払い前の作業依頼",
    "bank_or_id": "口座情報・身分証の要求",
    "everyone_does_it": "「みんなやっている」型の勧誘",
}

SCAM_ADVICE = {
    "leave_platform": "サービス外での直接のやりとりや取引に誘う内容が含まれています。事務局が承認した"
                      "サービス外連絡申請がない限り、外部の連絡先でのやりとりには応じないでください。",
    "fee_evasion": "外部での直接取引・手数料を避ける提案には応じないでください。サービス外の取引は仮払いによる保護の"
                   "対象外です。",
    "work_before_escrow": "仮払い前に作業を始めないでください。仮払いが済んでいない作業は未払いの原因になります。",
    "bank_or_id": "口座番号や身分証の写真、パスワードなどをメッセージで送らないでください。",
    "everyone_does_it": "「他の人はもう始めている」「みんなやっている」といった言葉で規約外の進め方を促すのは、"
                        "詐欺によくある手口です。",
}
SCAM_ADVICE_ALWAYS = "不審に思ったら返信せず、事務局へ通報してください。トラブルの際も事務局へ通報してください。"


def scam_labels(kinds) -> str:
    return "、".join(SCAM_LABELS.get(k, k) for k in kinds)


def scam_advice(kinds) -> list[str]:
    """The sentences of the caution panel for these scam kinds (the general one last)."""
    return [SCAM_ADVICE[k] for k in kinds if k in SCAM_ADVICE] + [SCAM_ADVICE_ALWAYS]


# --- reading ----------------------------------------------------------------------------------------------


def thread_permit(thread) -> ContactPermit | None:
    """The live (pending or approved) permit of the thread, if any: at most one (a DB constraint)."""
    return ContactPermit.objects.filter(thread=thread, state__in=LIVE_STATES).order_by("-created_at").first()


def thread_has_permit(thread) -> bool:
    """Contact details may pass in this thread."""
    return ContactPermit.objects.filter(thread=thread, state="approved").exists()


def tool_label(tool: str) -> str:
    return str(ContactPermit.Tool(tool).label) if tool in ContactPermit.Tool.values else tool


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


# --- helpers ----------------------------------------------------------------------------------------------


def _lock_thread(thread_id: int):
    thread = (Thread.objects.select_for_update(of=("self",))
              .select_related("contract", "order", "application__job", "job").filter(pk=thread_id).first())
    if thread is None:
        raise NotFound()
    members = [m.user for m in thread.members.select_related("user")]
    return thread, members


def _lock_permit(permit_id: int) -> tuple[ContactPermit, Thread, list]:
    """Thread first, then the permit (the lock order of `message_send`)."""
    thread_id = ContactPermit.objects.filter(pk=permit_id).values_list("thread_id", flat=True).first()
    if thread_id is None:
        raise NotFound()
    thread, members = _lock_thread(thread_id)
    permit = ContactPermit.objects.select_for_update().filter(pk=permit_id).first()
    if permit is None:
        raise NotFound()
    permit.thread = thread
    return permit, thread, members


def _client_id(thread: Thread) -> int | None:
    """The ordering side of the thread (client of a job or contract, buyer of an order)."""
    if thread.contract_id:
        return thread.contract.client_id
    if thread.order_id:
        return thread.order.buyer_id
    if thread.application_id:
        return thread.application.job.client_id
    if thread.job_id:
        return thread.job.client_id
    return None


def _role(thread: Thread, user) -> Actor:
    return Actor.CLIENT if _client_id(thread) == user.pk else Actor.WORKER


def _tell(thread: Thread, users, *, kind: str, title: str, body: str, key: str) -> None:
    for user in users:
        notify(user=user, kind=kind, title=title, body=body, url=f"/messages/{thread.pk}/",
               dedupe_key=f"{key}:{user.pk}")


def _post(thread: Thread, body: str) -> None:
    from anshin.messaging.services import message_post_system

    message_post_system(thread=thread, body=body)


def _sender_checks(thread: Thread, members, user) -> None:
    from anshin.messaging.services import sender_check

    sender_check(user=user, thread=thread, others=[m for m in members if m.pk != user.pk])


# --- the parties ------------------------------------------------------------------------------------------


def permit_request(*, thread_id: int, user, tool: str, purpose: str) -> ContactPermit:
    """A member of the thread asks to exchange contact details there, with a purpose and a tool."""
    tool = str(tool or "")
    if tool not in ContactPermit.Tool.values:
        raise DomainError("invalid_tool", "利用するツールを選んでください。")
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError("required", "利用目的を入力してください。")
    if len(purpose) > rules.PERMIT_PURPOSE_MAX_LENGTH:
        raise DomainError("too_long", f"利用目的は{rules.PERMIT_PURPOSE_MAX_LENGTH:,}文字以内で入力してください。")
    with transaction.atomic():
        thread, members = _lock_thread(thread_id)
        if user.pk not in {m.pk for m in members}:
            if getattr(user, "is_operator", False):
                raise DomainError("members_only", "この操作はやりとりの当事者のみ行えます。", status=403)
            raise NotFound()
        _sender_checks(thread, members, user)
        if ContactPermit.objects.filter(thread=thread, state__in=LIVE_STATES).exists():
            raise DomainError("permit_exists", PERMIT_EXISTS, status=409)
        now = clock.now()
        permit = ContactPermit(thread=thread, requested_by=user, tool=tool, purpose=purpose, created_at=now,
                               decide_by=add_business_days(now, rules.PERMIT_DUE_BUSINESS_DAYS))
        permit.init_state("pending", at=now)
        try:
            with transaction.atomic():
                permit.save()
        except IntegrityError:  # the one-live-permit constraint: a concurrent request won
            raise DomainError("permit_exists", PERMIT_EXISTS, status=409) from None
        audit.record(subject=permit, action="request", actor=user, actor_role=_role(thread, user),
                     to_state="pending", payload={"tool": tool, "thread_id": thread.pk})
        from anshin.ops.models import QueueItem
        from anshin.ops.services import queue_item_open

        label = tool_label(tool)
        queue_item_open(
            kind=QueueItem.Kind.PERMIT, subject=permit, concerns=user, due_at=permit.decide_by, opened_by=user,
            summary=f"サービス外連絡申請（{label}）: {user.name}さん — {thread.subject}",
            dedupe_key=f"permit:{permit.pk}", payload={"thread_id": thread.pk, "tool": tool},
        )
        _post(thread, f"{user.name}さんがサービス外連絡申請（{label}）を行いました。事務局が"
                      f"{_local(permit.decide_by)}までに審査します。承認されるまで連絡先の交換はできません。")
        _tell(thread, [m for m in members if m.pk != user.pk], kind="permit.requested",
              title=f"{user.name}さんがサービス外連絡申請を行いました",
              body=f"利用するツール: {label}。事務局の審査結果はお知らせします。", key=f"permit:{permit.pk}:requested")
    return permit


def permit_withdraw(*, permit_id: int, user) -> ContactPermit:
    """The requester takes back a pending request."""
    with transaction.atomic():
        permit, thread, members = _lock_permit(permit_id)
        if user.pk not in {m.pk for m in members}:
            raise NotFound()
        if permit.requested_by_id != user.pk:
            raise DomainError("not_requester", "申請を取り下げられるのは申請した本人のみです。", status=403)
        flows.apply(permit, "withdraw", actor=_role(thread, user), user=user)
        _queue_close_by_party(permit, user=user, resolution="withdrawn")
        _post(thread, f"{user.name}さんがサービス外連絡申請を取り下げました。")
        _tell(thread, [m for m in members if m.pk != user.pk], kind="permit.withdrawn",
              title=f"{user.name}さんがサービス外連絡申請を取り下げました", body="",
              key=f"permit:{permit.pk}:withdrawn")
    return permit


def _queue_close_by_party(permit: ContactPermit, *, user, resolution: str) -> None:
    """The request is gone: its queue item is closed (by the requester, recorded as such — not as an operator)."""
    from django.contrib.contenttypes.models import ContentType

    from anshin.ops.models import QueueItem

    items = QueueItem.objects.select_for_update().filter(
        subject_type=ContentType.objects.get_for_model(ContactPermit), subject_id=permit.pk,
        state=QueueItem.State.OPEN)
    for item in items:
        item.state = QueueItem.State.CLOSED
        item.closed_at = clock.now()
        item.resolution = resolution
        item.note = "申請者が取り下げました。"
        item.save(update_fields=["state", "closed_at", "resolution", "note"])
        audit.record(subject=item, action=f"queue_close:{resolution}", actor=user,
                     actor_role=_role(permit.thread, user), from_state=QueueItem.State.OPEN,
                     to_state=QueueItem.State.CLOSED, payload={"kind": item.kind})


# --- the operators ----------------------------------------------------------------------------------------


def _operator_note(operator, note: str) -> str:
    from anshin.ops.services import note_required, operator_required

    operator_required(operator)
    return note_required(note)


def _decided(permit: ContactPermit, operator, note: str) -> None:
    permit.decided_by = operator
    permit.decided_at = clock.now()
    permit.internal_note = note
    permit.save(update_fields=["decided_by", "decided_at", "internal_note"])


def permit_decide(*, permit_id: int, operator, approve: bool, note: str) -> ContactPermit:
    """Approve or deny a pending request. The note is internal; both parties learn the result only."""
    from anshin.ops.services import queue_items_close_for

    note = _operator_note(operator, note)
    action = "approve" if approve else "deny"
    with transaction.atomic():
        permit, thread, members = _lock_permit(permit_id)
        flows.apply(permit, action, actor=Actor.OPERATOR, user=operator, payload={"note": note})
        _decided(permit, operator, note)
        queue_items_close_for(subject=permit, operator=operator, resolution="approved" if approve else "denied",
                              note=note)
        label = tool_label(permit.tool)
        if approve:
            text = f"サービス外連絡申請が承認されました（{label}）。このやりとりでは連絡先を交換できます。"
            title = "サービス外連絡申請が承認されました"
        else:
            text = ("サービス外連絡申請が否認されました（理由は開示していません）。"
                    "連絡先の交換はできません。引き続きこのメッセージでやりとりしてください。")
            title = "サービス外連絡申請が否認されました"
        _post(thread, text)
        _tell(thread, members, kind=f"permit.{'approved' if approve else 'denied'}", title=title, body=text,
              key=f"permit:{permit.pk}:{action}")
    return permit


def _revoke(permit: ContactPermit, thread: Thread, members, *, operator, note: str, payload: dict) -> None:
    from anshin.ops.services import queue_items_close_for

    flows.apply(permit, "revoke", actor=Actor.OPERATOR, user=operator, payload={"note": note, **payload})
    _decided(permit, operator, note)
    queue_items_close_for(subject=permit, operator=operator, resolution="revoked", note=note)
    text = ("事務局がサービス外連絡申請の承認を取り消しました（理由は開示していません）。"
            "このやりとりでは連絡先の交換はできません。")
    _post(thread, text)
    _tell(thread, members, kind="permit.revoked", title="サービス外連絡申請の承認が取り消されました", body=text,
          key=f"permit:{permit.pk}:revoked")


def permit_revoke(*, permit_id: int, operator, note: str) -> ContactPermit:
    """Take back one approval: contact details are held again in that thread from now on."""
    note = _operator_note(operator, note)
    with transaction.atomic():
        permit, thread, members = _lock_permit(permit_id)
        _revoke(permit, thread, members, operator=operator, note=note, payload={})
    return permit


def permit_revoke_all(*, user_id: int, operator, note: str) -> int:
    """Revoke every approved permit in the threads where the user is a member (seed 003: a client reported by
    one worker loses the permits of all their threads). Every member of each thread is told. Returns how many."""
    from anshin.accounts.models import User

    note = _operator_note(operator, note)
    with transaction.atomic():
        target = User.objects.filter(pk=user_id).first()
        if target is None:
            raise NotFound()
        permits = list(ContactPermit.objects.filter(state="approved", thread__members__user_id=user_id)
                       .order_by("thread_id").values_list("pk", flat=True).distinct())
        revoked = []
        for permit_id in permits:
            permit, thread, members = _lock_permit(permit_id)
            if permit.state != "approved":
                continue  # revoked meanwhile
            _revoke(permit, thread, members, operator=operator, note=note, payload={"revoke_all_for": user_id})
            revoked.append(permit.pk)
        audit.record(subject=target, action="permits_revoke_all", actor=operator, actor_role=Actor.OPERATOR,
                     payload={"note": note, "permits": revoked, "count": len(revoked)})
    return len(revoked)

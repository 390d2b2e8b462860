"""Messaging API: the inbox (unread, who waits for whom), a thread's messages with read receipts for my own
messages, sending (text and files, multipart), marking a thread read; the deal tools — progress reports,
delay notices, one-click acknowledgement — and 返信催促 (nudge); サービス外連絡申請 (permits) of a thread.

A message with contact details and no approved permit in the thread is held: 422 `contact_held` with the
flagged `spans` (offsets into the text sent) and the `masked` text; resend with `mask_contacts=true` to send
it masked (●●●)."""

from datetime import date

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from anshin.accounts.api import UserBrief, UserOut
from anshin.contracts.api import AttachmentOut
from anshin.core import clock
from anshin.core.access import get_for_party
from anshin.core.api_auth import ERRORS, MAX_ID, ErrorOut, IdPath, LocalDateTime
from anshin.messaging import selectors, services
from anshin.trust import permits
from anshin.trust.models import ContactPermit

router = Router(tags=["messages"])


class LastMessageOut(Schema):
    id: int
    sender_id: int | None
    body: str = Field(..., description="先頭200文字")
    created_at: LocalDateTime

    @staticmethod
    def resolve_body(obj):
        return obj.body[:200]


class InboxRowOut(Schema):
    id: int
    kind: str
    subject: str
    application_id: int | None
    contract_id: int | None
    order_id: int | None
    last_message_at: LocalDateTime
    counterpart: UserOut | None
    unread: int
    waiting_on_me: bool = Field(..., description="相手の発言が最後: 自分が返信する番")
    waiting_since: LocalDateTime | None
    last_message: LastMessageOut | None = Field(..., description="人が書いた最新のメッセージ")
    last_excerpt: str = Field("", description="最新のメッセージ（システムを含む）の先頭80文字")
    last_kind: str = ""

    @staticmethod
    def resolve_id(obj):
        return obj.thread.pk

    @staticmethod
    def resolve_kind(obj):
        return obj.thread.kind

    @staticmethod
    def resolve_subject(obj):
        return obj.thread.subject

    @staticmethod
    def resolve_application_id(obj):
        return obj.thread.application_id

    @staticmethod
    def resolve_contract_id(obj):
        return obj.thread.contract_id

    @staticmethod
    def resolve_order_id(obj):
        return obj.thread.order_id

    @staticmethod
    def resolve_last_message_at(obj):
        return obj.thread.last_message_at

    @staticmethod
    def resolve_last_message(obj):
        return obj.thread.last_human_message


class ReceiptOut(Schema):
    user_id: int
    read_at: LocalDateTime | None


class MessageOut(Schema):
    id: int
    kind: str = Field(..., description="normal / system / progress（進捗報告）/ delay（遅延）/ ack（確認しました）")
    sender: UserBrief | None
    body: str = Field(..., description="本文。progress: コメント、delay: 理由、ack: 定型文")
    created_at: LocalDateTime
    progress_percent: int | None = Field(None, description="progress: 進捗（0〜100%）")
    next_date: date | None = Field(
        None, description="progress: 次回のプレビュー予定日、delay: 新しい見込み日、ack: 返信予定日")
    late_item: str = Field("", description="delay: 遅れている作業")
    masked: bool = Field(False, description="連絡先を伏せて（●●●）送信されたメッセージ")
    caution: list[str] = Field(default_factory=list,
                               description="相手のメッセージに見つかった詐欺の兆候（事務局からの注意）。自分のものは空")
    mine: bool
    read_at: LocalDateTime | None = Field(
        None, description="自分のメッセージ: 相手全員が読んだ時刻（既読）。未読なら null")
    receipts: list[ReceiptOut] = Field(..., description="自分のメッセージのみ: 受信者ごとの既読時刻")
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_mine(obj, context):
        return obj.sender_id == context["request"].auth.pk

    @staticmethod
    def resolve_receipts(obj, context):
        if obj.sender_id != context["request"].auth.pk:
            return []
        return obj.receipt_rows

    @staticmethod
    def resolve_read_at(obj, context):
        if obj.sender_id != context["request"].auth.pk:
            return None
        times = [r.read_at for r in obj.receipt_rows]
        return max(times) if times and all(times) else None

    @staticmethod
    def resolve_attachments(obj):
        return obj.files

    @staticmethod
    def resolve_caution(obj, context):
        return [] if obj.sender_id == context["request"].auth.pk else list(obj.caution or [])


class SpanOut(Schema):
    start: int = Field(..., description="送信したテキスト内の開始位置（文字）")
    end: int
    kind: str = Field(..., description="email / phone / line / chatwork / skype / … / other")
    text: str


class ContactHeldOut(Schema):
    """422: `contact_held` (held message) — or `invalid` (input that fails the schema, with `errors`)."""

    code: str = Field(..., examples=["contact_held"])
    message: str
    field: str | None = Field(None, description="contact_held: 連絡先が見つかった項目"
                                                "（body / comment / reason / late_item）")
    spans: list[SpanOut] | None = Field(None, description="contact_held: 見つかった連絡先")
    masked: str | None = Field(None, description="contact_held: 連絡先を●●●に置き換えたテキスト")


HELD = {422: ContactHeldOut}


class CounterpartOut(Schema):
    user: UserOut
    last_seen_at: LocalDateTime | None = Field(..., description="相手の最終アクセス（非公開なら null）")
    hidden: bool
    not_logged_in_since_my_last: bool = Field(
        ..., description="自分の最後のメッセージの送信後、相手はまだログインしていない")


class NudgeStatusOut(Schema):
    waiting: bool = Field(..., description="自分の発言が最後（相手の返信待ち）")
    allowed: bool = Field(..., description="いま返信を催促できる")
    reason: str = Field(..., description="催促できない理由（できるときは空）")


class ThreadOut(Schema):
    id: int
    kind: str
    subject: str
    application_id: int | None
    contract_id: int | None
    order_id: int | None
    counterpart: CounterpartOut | None
    nudge: NudgeStatusOut
    messages: list[MessageOut]


class MarkReadOut(Schema):
    marked: int
    unread_count: int


@router.get("/threads", response={200: list[InboxRowOut], **ERRORS}, summary="受信箱（最新順）")
def list_threads(request, limit: int = Query(50, ge=1, le=200)):
    return selectors.inbox(user=request.auth, limit=limit)


@router.get("/threads/{thread_id}/messages", response={200: ThreadOut, **ERRORS},
            summary="スレッドのメッセージ（既読は POST …/read で付けます）")
def thread_messages(request, thread_id: int = IdPath(), after_id: int | None = Query(None, ge=1, le=MAX_ID),
                    limit: int = Query(200, ge=1, le=500)):
    user = request.auth
    thread = selectors.thread_get(thread_id=thread_id, user=user)
    messages = selectors.thread_messages(thread=thread, limit=limit, after_id=after_id)
    status = selectors.counterpart_status(thread=thread, user=user, messages=messages)
    counterpart = None
    if status:
        counterpart = {"user": status["user"], "last_seen_at": status["last_seen"], "hidden": status["hidden"],
                       "not_logged_in_since_my_last": status["not_logged_in_since_my_last"]}
    nudge = selectors.nudge_status(thread=thread, user=user, now=clock.now())
    return {"id": thread.pk, "kind": thread.kind, "subject": thread.subject, "application_id": thread.application_id,
            "contract_id": thread.contract_id, "order_id": thread.order_id, "counterpart": counterpart,
            "nudge": {"waiting": nudge.show, "allowed": nudge.allowed, "reason": nudge.reason},
            "messages": messages}


@router.post("/threads/{thread_id}/messages", response={201: MessageOut, **ERRORS, 413: ErrorOut, **HELD},
             summary="メッセージを送る（multipart/form-data または application/x-www-form-urlencoded）",
             description="外部の連絡先が含まれ、このスレッドに承認済みのサービス外連絡申請がなければ 422 contact_held"
                         "（spans と masked 付き）。mask_contacts=true で連絡先を●●●に伏せて送信します。")
def send_message(request, thread_id: int = IdPath(), body: Form[str] = "", files: File[list[UploadedFile]] = None,
                 mask_contacts: Form[bool] = False):
    thread = selectors.thread_of_party(thread_id=thread_id, user=request.auth)
    message = services.message_send(thread=thread, sender=request.auth, body=body, files=files or [],
                                    mask_contacts=mask_contacts)
    return Status(201, message)


@router.post("/threads/{thread_id}/read", response={200: MarkReadOut, **ERRORS}, summary="スレッドを既読にする")
def mark_read(request, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    marked = services.thread_mark_read(thread=thread, user=request.auth)
    return {"marked": marked, "unread_count": services.unread_count(request.auth)}


# --- deal tools -------------------------------------------------------------------------------------------


class ProgressIn(Schema):
    percent: int = Field(..., description="進捗（0〜100%）")
    next_date: date = Field(..., description="次回のプレビュー予定日（今日以降）")
    comment: str = Field("", max_length=services.COMMENT_MAX_LENGTH)


class DelayIn(Schema):
    late_item: str = Field(..., max_length=100, description="遅れている作業")
    new_date: date = Field(..., description="新しい見込み日（今日以降）")
    reason: str = Field(..., max_length=services.COMMENT_MAX_LENGTH)


class AckIn(Schema):
    reply_by: date = Field(..., description="返信予定日（今日以降）")


class DealUpdateOut(Schema):
    """A progress report or delay notice as the deal pages' API timelines show it
    (`selectors.deal_updates(thread)` gives the objects, `headline` included)."""

    id: int
    kind: str = Field(..., description="progress / delay")
    sender: UserBrief | None
    created_at: LocalDateTime
    headline: str = Field(..., description="一行の要約（例: 進捗報告: 60%完了（次回のプレビュー予定: 9月24日））")
    body: str = Field(..., description="progress: コメント、delay: 理由")
    progress_percent: int | None
    next_date: date
    late_item: str


class NudgeOut(Schema):
    id: int
    thread_id: int
    recipient_id: int
    created_at: LocalDateTime
    escalate_at: LocalDateTime | None = Field(
        ..., description="この時刻までに返信がなければ事務局に通知（契約・注文の取引中のみ）")
    replied_at: LocalDateTime | None
    escalated_at: LocalDateTime | None


@router.post("/threads/{thread_id}/progress", response={201: MessageOut, **ERRORS, **HELD},
             summary="進捗報告を送る（契約の受注者・注文の出品者のみ）")
def send_progress(request, payload: ProgressIn, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return Status(201, services.message_send_progress(thread=thread, sender=request.auth, percent=payload.percent,
                                                      next_date=payload.next_date, comment=payload.comment))


@router.post("/threads/{thread_id}/delay", response={201: MessageOut, **ERRORS, **HELD},
             summary="遅延のお知らせを送る（契約の受注者・注文の出品者のみ）")
def send_delay(request, payload: DelayIn, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return Status(201, services.message_send_delay(thread=thread, sender=request.auth, late_item=payload.late_item,
                                                   new_date=payload.new_date, reason=payload.reason))


@router.post("/threads/{thread_id}/ack", response={201: MessageOut, **ERRORS},
             summary="「メッセージを確認しました。○月○日までにお返事します」を送る（返信として数えます）")
def acknowledge(request, payload: AckIn, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return Status(201, services.message_acknowledge(thread=thread, sender=request.auth, reply_by=payload.reply_by))


@router.post("/threads/{thread_id}/nudge", response={201: NudgeOut, **ERRORS},
             summary="返信を催促する（最後のメッセージから24時間後、1日1回まで）")
def nudge(request, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return Status(201, services.thread_nudge(thread=thread, sender=request.auth))


# --- サービス外連絡申請 (permits) --------------------------------------------------------------------------------


class PermitIn(Schema):
    tool: ContactPermit.Tool = Field(..., description="利用するツール")
    purpose: str = Field(..., max_length=1000, description="利用目的")


class PermitOut(Schema):
    """A permit as the parties see it: never the operator's internal note nor who decided."""

    id: int
    thread_id: int
    state: str = Field(..., description="pending（審査中）/ approved / denied / revoked / withdrawn")
    state_label: str
    tool: str
    tool_label: str
    purpose: str
    requested_by: UserBrief
    mine: bool = Field(..., description="自分の申請（取り下げられるのは申請者のみ）")
    created_at: LocalDateTime
    decide_by: LocalDateTime = Field(..., description="回答予定日時（申請から2営業日、土日祝を除く）")
    decided_at: LocalDateTime | None

    @staticmethod
    def resolve_tool_label(obj):
        return permits.tool_label(obj.tool)

    @staticmethod
    def resolve_mine(obj, context):
        return obj.requested_by_id == context["request"].auth.pk


@router.get("/threads/{thread_id}/permits", response={200: list[PermitOut], **ERRORS},
            summary="スレッドのサービス外連絡申請（新しい順）")
def thread_permits(request, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return selectors.thread_permits(thread=thread)


@router.post("/threads/{thread_id}/permits", response={201: PermitOut, **ERRORS},
             summary="サービス外連絡申請を送る（スレッドの当事者。審査は最大2営業日）")
def permit_request(request, payload: PermitIn, thread_id: int = IdPath()):
    thread = selectors.thread_get(thread_id=thread_id, user=request.auth)
    return Status(201, permits.permit_request(thread_id=thread.pk, user=request.auth, tool=payload.tool.value,
                                              purpose=payload.purpose))


@router.post("/permits/{permit_id}/withdraw", response={200: PermitOut, **ERRORS},
             summary="審査中のサービス外連絡申請を取り下げる（申請者のみ）")
def permit_withdraw(request, permit_id: int = IdPath()):
    permit = get_for_party(ContactPermit, request.auth, pk=permit_id)
    return permits.permit_withdraw(permit_id=permit.pk, user=request.auth)


"""Where the contact guard applies (PRODUCT.md §6): every refusal is a hold, logged; the third hold in 30 days
raises a flag for the operators. Job, listing and profile texts cannot be saved with contact details at all;
messages are held unless the thread has an approved permit (see `trust.permits`)."""

from django.db import transaction

from anshin import rules
from anshin.core import clock
from anshin.core.errors import DomainError
from anshin.ops.models import QueueItem
from anshin.trust import contact_guard
from anshin.trust.models import GuardHold

KIND_LABELS = {
    "email": "メールアドレス", "phone": "電話番号", "line": "LINE", "chatwork": "Chatwork", "skype": "Skype",
    "discord": "Discord", "slack": "Slack", "telegram": "Telegram", "whatsapp": "WhatsApp", "wechat": "WeChat",
    "meeting_url": "会議URL", "sns_dm": "SNSのDM", "other": "外部の連絡先",
}


def kinds_text(spans) -> str:
    return "、".join(dict.fromkeys(KIND_LABELS.get(s.kind, s.kind) for s in spans))


def hold_record(*, user, surface: str, text: str, spans, thread=None) -> GuardHold:
    """Log a hold and raise the operators' flag on the GUARD_FLAG_HOLDS-th within the window. Call it before
    (outside) the refused write's transaction: that one rolls back, the record of the attempt must not."""
    from anshin.ops.services import ops_due, queue_item_open

    now = clock.now()
    with transaction.atomic():
        hold = GuardHold.objects.create(
            user=user, surface=surface, thread=thread, created_at=now,
            kinds=sorted({s.kind for s in spans}), fragments=[text[s.start:s.end][:100] for s in spans][:20],
        )
        recent = GuardHold.objects.filter(user=user, created_at__gt=now - rules.GUARD_FLAG_WINDOW).count()
        if recent >= rules.GUARD_FLAG_HOLDS:
            # One open flag per user at a time: a fourth hold adds to the record, not to the queue.
            if not QueueItem.objects.filter(kind=QueueItem.Kind.GUARD_FLAG, concerns=user,
                                            state=QueueItem.State.OPEN, payload__reason="repeat_holds").exists():
                queue_item_open(
                    kind=QueueItem.Kind.GUARD_FLAG, subject=user, concerns=user, due_at=ops_due(now),
                    summary=f"{user.name}さん: 連絡先の送信が30日で{recent}回保留されました",
                    dedupe_key=f"guard:holds:{user.pk}:{hold.pk}",
                    payload={"reason": "repeat_holds", "holds": recent},
                )
    return hold


def text_guard(*, user, surface: str, fields: dict[str, str]) -> None:
    """Refuse to save a job, listing or profile whose texts contain contact details (no permit applies:
    these texts are public). `fields` maps the Japanese field label to its text."""
    found = []
    for label, value in fields.items():
        result = contact_guard.scan(value or "")
        if result.contact:
            found.append((label, value, result.contacts))
    if not found:
        return
    for _label, value, spans in found:
        hold_record(user=user, surface=surface, text=value, spans=spans)
    where = "、".join(f"{label}（{kinds_text(spans)}）" for label, _value, spans in found)
    raise DomainError(
        "contact_details",
        f"{where}に外部の連絡先が含まれているため保存できません。連絡先のやりとりはメッセージと"
        "「サービス外連絡申請」をご利用ください。",
    )

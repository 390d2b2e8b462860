"""Reports (通報, PRODUCT.md §6): a user reports a user, a message, a job or a listing with a category and a
text. The report lands in the operators' REPORT queue (due in 2 business days), concerning the reported user
(the console's risk panel); the reporter gets a confirmation; the reported user is never told."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse

from anshin import rules
from anshin.core import audit, clock
from anshin.core.errors import DomainError, NotFound
from anshin.trust.models import Report

SUBJECT_KINDS = ("user", "message", "job", "listing")
SUBJECT_LABELS = {"user": "ユーザー", "message": "メッセージ", "job": "仕事", "listing": "出品サービス"}
RECEIVED_MESSAGE = "通報を受け付けました。事務局が確認します。"
EXCERPT_LENGTH = 80


@dataclass(frozen=True)
class Subject:
    """What is reported, as the reporter may see it."""

    kind: str
    obj: object
    reported_user: object
    description: str  # e.g. 仕事「ロゴ制作」（株式会社サンプルさん）
    excerpt: str  # the message text (messages only)
    url: str  # where the reporter goes back to


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"


def report_subject(*, user, subject_kind: str, subject_id) -> Subject:
    """Resolve what `user` wants to report; NotFound for anything they cannot see (a message of a thread they
    are not in, a paused listing of someone else, an unknown id), DomainError for their own things."""
    from anshin.jobs.models import Job
    from anshin.messaging.models import Message
    from anshin.orders.selectors import listing_get

    if subject_kind not in SUBJECT_KINDS:
        raise DomainError("invalid_subject", "通報の対象の種類（user・message・job・listing）を指定してください。")
    try:
        subject_id = int(subject_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= subject_id <= 2**53:
        raise NotFound()
    if subject_kind == "user":
        person = get_user_model().objects.filter(pk=subject_id, is_active=True).first()
        if person is None:
            raise NotFound()
        subject = Subject(
            "user", person, person, f"{person.name}さん", "", reverse("accounts:profile", args=[person.pk])
        )
    elif subject_kind == "message":
        message = (
            Message.objects.select_related("sender", "thread").filter(pk=subject_id, thread__members__user=user).first()
        )
        if message is None:
            raise NotFound()
        if message.sender is None:
            raise DomainError("not_reportable", "システムからのお知らせは通報できません。")
        subject = Subject(
            "message",
            message,
            message.sender,
            f"{message.sender.name}さんのメッセージ",
            _excerpt(message.body),
            reverse("messaging:thread", args=[message.thread_id]),
        )
    elif subject_kind == "job":
        job = Job.objects.select_related("client").filter(pk=subject_id).first()
        if job is None:
            raise NotFound()
        subject = Subject(
            "job",
            job,
            job.client,
            f"仕事「{job.title}」（{job.client.name}さん）",
            "",
            reverse("jobs:detail", args=[job.pk]),
        )
    else:
        listing = listing_get(listing_id=subject_id, user=user)  # NotFound for a paused listing of others
        description = f"出品サービス「{listing.title}」（{listing.seller.name}さん）"
        subject = Subject(
            "listing", listing, listing.seller, description, "", reverse("orders:listing", args=[listing.pk])
        )
    if subject.reported_user.pk == user.pk:
        raise DomainError("own", "ご自身（ご自身の仕事・出品・メッセージ）は通報できません。")
    return subject


def report_create(*, user, subject_kind: str, subject_id, category: str, text: str) -> Report:
    subject = report_subject(user=user, subject_kind=subject_kind, subject_id=subject_id)
    if category not in Report.Category.values:
        raise DomainError("invalid_category", "通報の種類を選択してください。")
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    if text is None:
        raise DomainError("invalid", "通報の内容は文字列で入力してください。")
    if not text:
        raise DomainError("text_required", "通報の内容（何があったか）を入力してください。")
    if len(text) > rules.REPORT_TEXT_MAX_LENGTH:
        raise DomainError("too_long", f"通報の内容は{rules.REPORT_TEXT_MAX_LENGTH:,}文字以内で入力してください。")
    from anshin.notifications.services import notify
    from anshin.ops.models import QueueItem
    from anshin.ops.services import ops_due, queue_item_open

    reported = subject.reported_user
    content_type = ContentType.objects.get_for_model(subject.obj)
    category_label = Report.Category(category).label
    with transaction.atomic():
        if Report.objects.filter(
            reporter=user, subject_type=content_type, subject_id=subject.obj.pk, state=Report.State.OPEN
        ).exists():
            raise DomainError(
                "duplicate",
                "この対象はすでに通報済みです。事務局が確認していますので、しばらくお待ちください。",
                status=409,
            )
        now = clock.now()
        report = Report.objects.create(
            reporter=user,
            reported_user=reported,
            subject_type=content_type,
            subject_id=subject.obj.pk,
            category=category,
            text=text,
            created_at=now,
        )
        queue_item_open(
            kind=QueueItem.Kind.REPORT,
            subject=report,
            concerns=reported,
            opened_by=user,
            due_at=ops_due(now),
            summary=f"通報（{category_label}）: {subject.description}",
            dedupe_key=f"report:{report.pk}",
            payload={
                "category": category,
                "subject_kind": subject.kind,
                "subject_id": subject.obj.pk,
                "reporter": user.pk,
            },
        )
        audit.record(
            subject=report,
            action="report",
            actor=user,
            actor_role="reporter",
            to_state=report.state,
            payload={
                "category": category,
                "subject_kind": subject.kind,
                "subject_id": subject.obj.pk,
                "reported_user": reported.pk,
            },
        )
        notify(
            user=user,
            kind="report.received",
            title=RECEIVED_MESSAGE,
            body=f"{SUBJECT_LABELS[subject.kind]}（{subject.description}）についての通報（{category_label}）を"
            "受け付けました。内容を確認し、必要な対応を行います。対応の詳細はお知らせできない場合があります。",
            url=subject.url,
            dedupe_key=f"report:{report.pk}:received",
        )
    return report


def report_close(*, report_id: int, operator, note: str, resolution: str = "done") -> Report:
    """The console closes a report (and its queue item) once looked into; the reporter is not told the outcome
    (measures against another account are internal)."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import note_required, operator_required, queue_items_close_for

    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            raise NotFound()
        if report.state != Report.State.OPEN:
            raise DomainError("closed", "この通報は対応済みです。", status=409)
        report.state = Report.State.CLOSED
        report.save(update_fields=["state"])
        audit.record(
            subject=report,
            action="report_close",
            actor=operator,
            actor_role="operator",
            from_state=Report.State.OPEN,
            to_state=Report.State.CLOSED,
            payload={"note": note, "resolution": resolution},
        )
        queue_items_close_for(
            subject=report, operator=operator, resolution=resolution, note=note, kinds=[QueueItem.Kind.REPORT]
        )
    return report


def reports_close_for(*, user, operator, resolution: str, note: str) -> int:
    """Inside an account measure's transaction (suspension): every open report about `user` is dealt with."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import queue_items_close_for

    count = 0
    for report in Report.objects.select_for_update().filter(reported_user=user, state=Report.State.OPEN):
        report.state = Report.State.CLOSED
        report.save(update_fields=["state"])
        audit.record(
            subject=report,
            action="report_close",
            actor=operator,
            actor_role="operator",
            from_state=Report.State.OPEN,
            to_state=Report.State.CLOSED,
            payload={"note": note, "resolution": resolution},
        )
        queue_items_close_for(
            subject=report, operator=operator, resolution=resolution, note=note, kinds=[QueueItem.Kind.REPORT]
        )
        count += 1
    return count

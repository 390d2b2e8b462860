"""Jobs and applications: post, edit, close; apply once, withdraw, shortlist, decline."""

from datetime import date

from django.db import IntegrityError, transaction

from anshin import rules
from anshin.core import audit, clock, flows
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.jobs.models import Application, Category, DeclineReason, Job
from anshin.messaging.services import message_post_system, message_send, thread_create
from anshin.notifications.services import notify

JOB_FIELDS = ("title", "description", "category", "skills", "budget_min", "budget_max", "application_deadline",
              "delivery_date", "hires")


def _validate_job(data: dict) -> None:
    if not (data.get("title") or "").strip():
        raise DomainError("invalid", "タイトルを入力してください。")
    if not (data.get("description") or "").strip():
        raise DomainError("invalid", "仕事の詳細を入力してください。")
    for field, limit, label in (("title", 100, "タイトル"), ("description", 10_000, "仕事の詳細"),
                                ("skills", 300, "求めるスキル")):
        if len(data.get(field) or "") > limit:
            raise DomainError("too_long", f"{label}は{limit:,}文字以内で入力してください。")
    if data.get("category") not in Category.values:
        raise DomainError("invalid", "カテゴリを選択してください。")
    budget_max, budget_min = data.get("budget_max"), data.get("budget_min")
    for value in (budget_max, budget_min):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not rules.MIN_AMOUNT <= value <= rules.MAX_AMOUNT):
            raise DomainError("invalid_amount",
                              f"予算は{yen(rules.MIN_AMOUNT)}以上{yen(rules.MAX_AMOUNT)}以下の整数で入力してください。")
    if budget_max is None:
        raise DomainError("invalid_amount", "予算を入力してください。")
    if budget_min is not None and budget_min > budget_max:
        raise DomainError("invalid_amount", "予算の下限は上限以下にしてください。")
    deadline = data.get("application_deadline")
    if not isinstance(deadline, date) or deadline < clock.today():
        raise DomainError("invalid_date", "応募期限には今日以降の日付を指定してください。")
    delivery = data.get("delivery_date")
    if delivery is not None and delivery < deadline:
        raise DomainError("invalid_date", "希望納期は応募期限以降の日付にしてください。")
    hires = data.get("hires", 1)
    if not isinstance(hires, int) or not 1 <= hires <= 100:
        raise DomainError("invalid", "募集人数は1〜100人で入力してください。")


def job_create(*, user, **data) -> Job:
    data.setdefault("hires", 1)
    _validate_job(data)
    now = clock.now()
    with transaction.atomic():
        job = Job(client=user, created_at=now, updated_at=now, **{k: data.get(k) for k in JOB_FIELDS})
        job.skills = job.skills or ""
        job.init_state("open")
        job.save()
        audit.record(subject=job, action="post", actor=user, actor_role=Actor.CLIENT, to_state="open")
    return job


def _own_job(job_id: int, user) -> tuple[Job, Actor]:
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or (job.client_id != user.pk and not user.is_operator):
        raise NotFound()
    return job, (Actor.CLIENT if job.client_id == user.pk else Actor.OPERATOR)


def job_update(*, job_id: int, user, **data) -> Job:
    with transaction.atomic():
        job, actor = _own_job(job_id, user)
        merged = {k: data.get(k, getattr(job, k)) for k in JOB_FIELDS}
        _validate_job(merged)
        for key, value in merged.items():
            setattr(job, key, value if value is not None or key in ("budget_min", "delivery_date") else "")
        job.updated_at = clock.now()
        job.save()
        audit.record(subject=job, action="edit", actor=user, actor_role=actor, payload={"fields": sorted(data)})
    return job


def job_transition(*, job_id: int, user, action: str) -> Job:
    with transaction.atomic():
        job, actor = _own_job(job_id, user)
        flows.apply(job, action, actor=actor, user=user)
    return job


def application_create(*, job_id: int, user, message: str, amount: int, estimated_date: date) -> Application:
    message = (message or "").strip()
    if not message:
        raise DomainError("invalid", "応募メッセージを入力してください。")
    if len(message) > 5_000:
        raise DomainError("too_long", "応募メッセージは5,000文字以内で入力してください。")
    if not isinstance(amount, int) or isinstance(amount, bool) or not rules.MIN_AMOUNT <= amount <= rules.MAX_AMOUNT:
        raise DomainError("invalid_amount",
                          f"提案金額は{yen(rules.MIN_AMOUNT)}以上{yen(rules.MAX_AMOUNT)}以下の整数で入力してください。")
    if not isinstance(estimated_date, date) or estimated_date < clock.today():
        raise DomainError("invalid_date", "完了予定日には今日以降の日付を指定してください。")
    with transaction.atomic():
        job = Job.objects.select_related("client").filter(pk=job_id).first()
        if job is None:
            raise NotFound()
        if job.client_id == user.pk:
            raise DomainError("own_job", "自分の仕事には応募できません。")
        if job.state != "open" or job.application_deadline < clock.today():
            raise DomainError("closed", "この仕事の募集は終了しています。")
        application = Application(job=job, worker=user, message=message, amount=amount,
                                  estimated_date=estimated_date, created_at=clock.now())
        application.init_state("applied")
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:
            raise DomainError("duplicate", "この仕事にはすでに応募しています。", status=409) from None
        audit.record(subject=application, action="apply", actor=user, actor_role=Actor.WORKER, to_state="applied")
        thread = thread_create(kind="application", subject=f"応募: {job.title}", members=[job.client, user],
                               application=application)
        message_send(thread=thread, sender=user,
                     body=f"{message}\n\n提案金額: {yen(amount)}／完了予定日: {estimated_date:%Y/%m/%d}")
    return application


def application_transition(*, application_id: int, user, action: str, reason: str = "") -> Application:
    """shortlist, unshortlist, decline (with a templated reason), withdraw."""
    if action == "offer":
        raise DomainError("not_allowed", "契約オファーは契約画面から送ってください。")
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",)).select_related("job", "job__client", "worker", "thread")
            .filter(pk=application_id).first()
        )
        if application is None:
            raise NotFound()
        if user.pk == application.worker_id:
            actor = Actor.WORKER
        elif user.pk == application.job.client_id:
            actor = Actor.CLIENT
        elif user.is_operator:
            actor = Actor.OPERATOR
        else:
            raise NotFound()
        payload = {}
        if action == "decline":
            if reason not in DeclineReason.values:
                raise DomainError("invalid", "見送りの理由を選択してください。")
            application.decline_reason = reason
            application.save(update_fields=["decline_reason"])
            payload["reason"] = reason
        flows.apply(application, action, actor=actor, user=user, payload=payload)
        if action == "decline":
            text = f"今回は見送りとなりました。理由: {flows.site_text(DeclineReason(reason).label)}"
            message_post_system(thread=application.thread, body=text)
            notify(user=application.worker, kind="application.declined", title=f"「{application.job.title}」の選考結果",
                   body=text, url=f"/applications/{application.pk}/",
                   dedupe_key=f"application:{application.pk}:declined")
        elif action == "withdraw":
            message_post_system(thread=application.thread, body=f"{application.worker.name}さんが応募を辞退しました。")
    return application

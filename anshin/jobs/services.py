"""Jobs and applications: post, edit, close; apply once, withdraw, shortlist, decline; test tasks with a clock
that pauses on a blocker question; scouting."""

from contextlib import contextmanager
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from anshin import rules
from anshin.core import audit, clock, flows, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.jobs.flow import TEST_TASK_FLOW
from anshin.jobs.models import Application, Category, DeclineReason, Job, Scout, TestTask, duration_label
from anshin.messaging.models import Thread
from anshin.messaging.services import (
    attachments_validate,
    message_post_system,
    message_precheck,
    message_send,
    thread_create,
)
from anshin.notifications.services import notice, notify, notify_many
from anshin.trust.blocks import refuse_if_blocked
from anshin.trust.holds import text_guard

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
    _guard_job_texts(user, data)  # trust: before the transaction, so the hold record survives the refusal
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


def _guard_job_texts(user, data: dict) -> None:
    """trust: public texts cannot carry contact details (PRODUCT.md §6)."""
    labels = {"title": "タイトル", "description": "仕事の詳細", "skills": "求めるスキル"}
    text_guard(user=user, surface="job",
               fields={label: data[field] for field, label in labels.items() if isinstance(data.get(field), str)})


def job_update(*, job_id: int, user, **data) -> Job:
    if Job.objects.filter(pk=job_id, client_id=user.pk).exists() or user.is_operator:  # others: 404 below
        _guard_job_texts(user, data)  # trust: outside the transaction (the hold is recorded though nothing saves)
    with transaction.atomic():
        job, actor = _own_job(job_id, user)
        merged = {k: data.get(k, getattr(job, k)) for k in JOB_FIELDS}
        _validate_job(merged)
        for key, value in merged.items():
            setattr(job, key, value if value is not None or key in ("budget_min", "delivery_date") else "")
        job.updated_at = clock.now()
        flows.rearm(job)  # an open job now closes at the end of its (possibly new) deadline day
        job.save()
        audit.record(subject=job, action="edit", actor=user, actor_role=actor, payload={"fields": sorted(data)})
    return job


def job_transition(*, job_id: int, user, action: str) -> Job:
    with transaction.atomic():
        job, actor = _own_job(job_id, user)
        flows.apply(job, action, actor=actor, user=user)
        if job.state == "closed":
            _tell_waiting_applicants(job, "クライアントが募集を終了しました。" if actor == Actor.CLIENT
                                     else "事務局が募集を終了しました。")
    return job


WAITING = ("applied", "shortlisted")  # an application still waiting for the client's decision


def _tell_waiting_applicants(job: Job, why: str) -> None:
    """募集終了 (the job is locked): whoever still waits for a decision hears it."""
    notify_many(_closed_notices(job, _waiting(job), why))


def _waiting(job: Job):
    return job.applications.filter(state__in=WAITING).select_related("worker").order_by("pk")


def _closed_notices(job: Job, waiting, why: str) -> list[dict]:
    """To each applicant still waiting: the job closed, and their application stands — the client may still
    offer a contract to any applicant. Told again after a reopen and a new close."""
    return [
        notice(user=application.worker, kind="job.closed", title=f"「{job.title}」の募集が終了しました",
               body=f"{why}あなたの応募は有効なままです。クライアントは応募者の中から引き続き契約をオファーできます。",
               url=f"/applications/{application.pk}/",
               dedupe_key=f"job:{job.pk}:closed:{job.state_entered_at.isoformat()}:{application.worker_id}")
        for application in waiting
    ]


def expiry_payload(job: Job) -> dict:
    return {"application_deadline": str(job.application_deadline)}


def expiry_notices(job: Job, applicants: int, waiting) -> list[dict]:
    """募集終了 by the deadline (the job just closed): the client hears why and who can still be hired
    (`applicants`, every application), the applicants still waiting (`waiting`) that their application stands."""
    hire = (f"これまでの応募者（{applicants}人）には、引き続き応募者一覧から契約をオファーできます。" if applicants
            else "この募集には応募がありませんでした。")
    deadline = job.application_deadline
    return [
        notice(user=job.client, kind="job.expired", title=f"「{job.title}」の募集期間が終了しました",
               body=f"応募期限（{deadline:%Y/%m/%d}）を過ぎたため、募集を終了しました。{hire}"
                    "募集を続けるには、新しい応募期限を設定してから募集を再開してください。",
               url=f"/jobs/{job.pk}/",
               dedupe_key=f"job:{job.pk}:expired:{deadline.isoformat()}"),
        *_closed_notices(job, waiting, f"応募期限（{deadline:%Y/%m/%d}）を過ぎ、募集が終了しました。"),
    ]


def job_settle_due(job_id: int) -> str | None:
    """`tick`, one job (the batch path, `expire_batch`, takes most): the application deadline day has ended —
    募集終了. Hiring from the applicants goes on (contract offers do not depend on the job's state)."""
    with transaction.atomic():
        job = (
            timers.lock_for_update(Job.objects.select_related("client"))
            .filter(pk=job_id, due_at__lte=clock.now())
            .first()
        )
        if job is None:
            return None  # closed by the client, re-armed by a new deadline, or settled by another sweeper
        action = job.timer_action
        flows.apply(job, action, actor=Actor.SYSTEM, payload=expiry_payload(job))
        notify_many(expiry_notices(job, job.applications.count(), _waiting(job)))
    return f"job {job_id}: {action}"


def _expire_batch(limit: int) -> list[str]:
    from anshin.jobs.expire_batch import jobs_expire_batch  # built on this module's helpers

    return jobs_expire_batch(limit)


timers.register(Job, settle=job_settle_due, settle_batch=_expire_batch)  # the deadline has no reminders


def _application_thread_id(application_id: int) -> int | None:
    return Thread.objects.filter(application_id=application_id).values_list("pk", flat=True).first()


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
    message_precheck(sender=user, text=message, field="message")  # trust: a held message is logged, not lost
    with transaction.atomic():
        job = Job.objects.select_related("client").filter(pk=job_id).first()
        if job is None:
            raise NotFound()
        if job.client_id == user.pk:
            raise DomainError("own_job", "自分の仕事には応募できません。")
        refuse_if_blocked(job.client_id, user.pk)  # trust: no new applications between blocked users
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
        _scout_answered_by(application)
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


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def _clean_links(links: str, label: str) -> str:
    link_list = [line.strip() for line in (links or "").splitlines() if line.strip()]
    if len(link_list) > 20:
        raise DomainError("too_many_links", f"{label}は20件までです。")
    if any(not link.startswith(("https://", "http://")) or len(link) > 2_000 or " " in link for link in link_list):
        raise DomainError("invalid_link",
                          f"{label}は http:// または https:// で始まる形式で、1行に1つ入力してください。")
    return "\n".join(link_list)


def _clean_text(text: str, label: str, limit: int, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise DomainError("empty", f"{label}を入力してください。")
    if len(text) > limit:
        raise DomainError("too_long", f"{label}は{limit:,}文字以内で入力してください。")
    return text


# --- test tasks -----------------------------------------------------------------------------------------------
#
# The clock: `sent` is armed by the flow's Timer from the `remaining` field (see jobs/flow.py), so
#   send:    remaining = duration               → due_at = sent_at + duration
#   block:   remaining = due_at − now, paused    → `blocked` has no timer: due_at cleared, nothing can expire
#   answer:  re-enter `sent`                     → due_at = answered_at + remaining (the same time left)
# Every action first settles a due timer in its own transaction (a deadline that has passed wins over a late
# click), then locks the test task and acts, like the contract services.

TEST_TASK_TEXT = {
    "send": "{c}さんからテスト課題が届きました（制限時間 {duration}、期限 {deadline}）。資料が見つからないなど"
            "作業を進められないときは「質問して時計を止める」から質問してください。回答があるまで時計は止まります。",
    "report_blocker": "{w}さんが質問しました。回答があるまでテストの時計を止めています（{clock}）。",
    "answer_blocker": "{c}さんが回答しました。テストの時計を再開しました（残り {left}、新しい期限 {deadline}）。",
    "submit": "{w}さんがテスト課題を提出しました（期限まで残り {left}）。評価をお待ちください。",
    "pass": "テスト課題は合格です。{comment}",
    "fail": "テスト課題は不合格でした。{comment}",
    "expire": "期限（{deadline}）を過ぎたため、テスト課題は提出されずに終了しました。",
}
TEST_TASK_NOTIFY = {  # who hears of it (besides the thread): the other side
    "send": "worker", "report_blocker": "client", "answer_blocker": "worker", "submit": "client",
    "pass": "worker", "fail": "worker", "expire": "both",
}


def _test_task_url(task: TestTask) -> str:
    return f"/applications/{task.application_id}/#test-task"


def _test_task_tell(task: TestTask, action: str, **extra) -> None:
    """System message in the application thread, and a notification to the side that did not act."""
    app = task.application
    left = task.time_left()
    text = TEST_TASK_TEXT[action].format(
        c=app.job.client.name, w=app.worker.name, duration=duration_label(task.duration),
        deadline=local(task.due_at) if task.due_at else "", left=duration_label(left or task.remaining),
        clock=task.clock_label, **extra,
    ).strip()
    thread = getattr(app, "thread", None)
    if thread is not None:
        message_post_system(thread=thread, body=text)
    who = TEST_TASK_NOTIFY[action]
    users = [app.job.client, app.worker] if who == "both" else [app.worker if who == "worker" else app.job.client]
    state = TEST_TASK_FLOW.states.site(task.state)
    for user in users:
        notify(user=user, kind=f"test_task.{action}", title=f"「{app.job.title}」のテスト課題: {state}", body=text,
               url=_test_task_url(task),
               dedupe_key=f"test_task:{task.pk}:{action}:{task.state_entered_at.isoformat()}:{user.pk}")


def _test_task_query():
    return TestTask.objects.select_related("application", "application__job", "application__job__client",
                                           "application__worker", "application__thread")


def _test_task_lock(application_id: int) -> TestTask:
    task = _test_task_query().select_for_update(of=("self",)).filter(application_id=application_id).first()
    if task is None:
        raise NotFound()
    return task


def _test_task_role(task: TestTask, user) -> Actor:
    if user.pk == task.application.worker_id:
        return Actor.WORKER
    if user.pk == task.application.job.client_id:
        return Actor.CLIENT
    if user.is_operator:
        return Actor.OPERATOR
    raise NotFound()


@contextmanager
def _test_task_acting(application_id: int, user):
    """A party action on a locked test task whose due timer is already settled (committed on its own)."""
    pk = TestTask.objects.filter(application_id=application_id).values_list("pk", flat=True).first()
    if pk is not None:
        test_task_settle_due(pk)
    with transaction.atomic():
        task = _test_task_lock(application_id)
        role = _test_task_role(task, user)  # non-parties get 404 before learning anything else
        if task.due_at and task.due_at <= clock.now():
            raise DomainError("deadline_passed", "期限を過ぎたため、この操作はできません。画面を更新してください。")
        yield task, role


def _check_duration(duration) -> timedelta:
    if not isinstance(duration, timedelta):
        raise DomainError("invalid_duration", "制限時間を指定してください。")
    if duration < rules.TEST_TASK_MIN_DURATION or duration > rules.TEST_TASK_MAX_DURATION:
        raise DomainError(
            "invalid_duration",
            f"制限時間は{duration_label(rules.TEST_TASK_MIN_DURATION)}以上{duration_label(rules.TEST_TASK_MAX_DURATION)}"
            "以内で指定してください。",
        )
    if duration % timedelta(minutes=1):
        raise DomainError("invalid_duration", "制限時間は分単位で指定してください。")
    return duration


def test_task_send(*, application_id: int, user, instructions: str, duration: timedelta, links: str = "",
                   files=()) -> TestTask:
    """The job's client sends a test task (instructions, material links and files, the time allowed) to an
    applied or shortlisted application. The materials go into the application thread as the client's message."""
    instructions = _clean_text(instructions, "課題の内容", 5_000)
    _check_duration(duration)
    links = _clean_links(links, "資料のURL")
    attachments_validate(files)
    message_precheck(sender=user, text=instructions, thread_id=_application_thread_id(application_id),
                     field="instructions")
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("job", "job__client", "worker", "thread").filter(pk=application_id).first()
        )
        if application is None:
            raise NotFound()
        if user.pk == application.worker_id:
            raise DomainError("not_allowed", "テスト課題を送れるのはこの仕事の発注者だけです。", status=403)
        if user.pk != application.job.client_id:
            raise NotFound()
        if application.state not in ("applied", "shortlisted"):
            raise DomainError("not_allowed",
                              f"現在の応募の状態（{application.state_label}）ではテスト課題を送れません。")
        if TestTask.objects.filter(application=application).exists():
            raise DomainError("duplicate", "この応募にはすでにテスト課題を送っています。", status=409)
        now = clock.now()
        body = f"【テスト課題】\n{instructions}"
        if links:
            body += f"\n\n資料:\n{links}"
        body += f"\n\n制限時間: {duration_label(duration)}（期限: {local(now + duration)}）"
        material = message_send(thread=application.thread, sender=user, body=body, files=files)
        task = TestTask(application=application, instructions=instructions, material_links=links,
                        material_message=material, duration=duration, remaining=duration, created_at=now)
        task.init_state("sent", at=now)  # the Timer reads `remaining`: due_at = now + duration
        try:
            with transaction.atomic():
                task.save()
        except IntegrityError:
            raise DomainError("duplicate", "この応募にはすでにテスト課題を送っています。", status=409) from None
        audit.record(subject=task, action="send", actor=user, actor_role=Actor.CLIENT, to_state="sent",
                     payload={"duration_seconds": int(duration.total_seconds())})
        task.application = application
        _test_task_tell(task, "send")
    return task


def test_task_report_blocker(*, application_id: int, user, question: str) -> TestTask:
    """The worker cannot go on (「資料が見つかりません」): the question goes to the client and the clock stops with
    the time that is left."""
    question = _clean_text(question, "質問", 2_000)
    message_precheck(sender=user, text=question, thread_id=_application_thread_id(application_id), field="question")
    with _test_task_acting(application_id, user) as (task, role):
        TEST_TASK_FLOW.find("report_blocker", task.state, role, task)  # refuse before touching anything
        now = clock.now()
        task.remaining = task.due_at - now
        task.paused_at = now
        task.blocker_question, task.blocker_answer = question, ""
        task.save(update_fields=["remaining", "paused_at", "blocker_question", "blocker_answer"])
        flows.apply(task, "report_blocker", actor=role, user=user,
                    payload={"question": question, "remaining_seconds": int(task.remaining.total_seconds())})
        message_send(thread=task.application.thread, sender=user, body=f"【テスト課題についての質問】\n{question}")
        _test_task_tell(task, "report_blocker")
    return task


def test_task_answer_blocker(*, application_id: int, user, answer: str) -> TestTask:
    """The client answers: the clock restarts with exactly the time that was left when it stopped."""
    answer = _clean_text(answer, "回答", 5_000)
    message_precheck(sender=user, text=answer, thread_id=_application_thread_id(application_id), field="answer")
    with _test_task_acting(application_id, user) as (task, role):
        TEST_TASK_FLOW.find("answer_blocker", task.state, role, task)
        paused = clock.now() - task.paused_at
        task.blocker_answer, task.paused_at = answer, None
        task.save(update_fields=["blocker_answer", "paused_at"])
        flows.apply(task, "answer_blocker", actor=role, user=user,
                    payload={"answer": answer, "paused_seconds": int(paused.total_seconds())})
        message_send(thread=task.application.thread, sender=user, body=f"【質問への回答】\n{answer}")
        _test_task_tell(task, "answer_blocker")
    return task


def test_task_submit(*, application_id: int, user, body: str, links: str = "", files=()) -> TestTask:
    body = _clean_text(body, "提出メッセージ", rules.MESSAGE_MAX_LENGTH)
    links = _clean_links(links, "提出物のURL")
    attachments_validate(files)
    message_precheck(sender=user, text=body, thread_id=_application_thread_id(application_id))
    with _test_task_acting(application_id, user) as (task, role):
        TEST_TASK_FLOW.find("submit", task.state, role, task)
        now = clock.now()
        if task.state == "sent":
            task.remaining = task.due_at - now  # the time that was left, shown with the submission
        task.paused_at = None
        text = f"【テスト課題の提出】\n{body}" + (f"\n\n提出物:\n{links}" if links else "")
        task.submission_message = message_send(thread=task.application.thread, sender=user, body=text, files=files)
        task.submission_body, task.submission_links, task.submitted_at = body, links, now
        task.save(update_fields=["remaining", "paused_at", "submission_message", "submission_body",
                                 "submission_links", "submitted_at"])
        flows.apply(task, "submit", actor=role, user=user)
        _test_task_tell(task, "submit")
    return task


def test_task_evaluate(*, application_id: int, user, result: str, comment: str = "") -> TestTask:
    """合格 / 不合格 with an optional comment. The application itself moves on through its own buttons."""
    if result not in ("pass", "fail"):
        raise DomainError("invalid", "評価（合格・不合格）を選択してください。")
    comment = _clean_text(comment, "コメント", 2_000, required=False)
    with _test_task_acting(application_id, user) as (task, role):
        TEST_TASK_FLOW.find(result, task.state, role, task)
        task.evaluation_comment, task.evaluated_at = comment, clock.now()
        task.save(update_fields=["evaluation_comment", "evaluated_at"])
        flows.apply(task, result, actor=role, user=user, payload={"comment": comment})
        _test_task_tell(task, result, comment=f"コメント: {comment}" if comment else "")
    return task


def test_task_settle_due(test_task_id: int) -> str | None:
    """`tick` and readers: the test expires when its (possibly resumed) due time has come."""
    with transaction.atomic():
        task = (
            timers.lock_for_update(_test_task_query())
            .filter(pk=test_task_id, due_at__lte=clock.now())
            .first()
        )
        if task is None:
            return None  # submitted, blocked, settled by someone else, or not due any more
        action = task.timer_action
        deadline = task.due_at
        task.remaining = timedelta(0)
        task.save(update_fields=["remaining"])
        flows.apply(task, action, actor=Actor.SYSTEM)
        task.due_at = deadline  # for the message only (the engine cleared it)
        _test_task_tell(task, action)
    return f"test_task {test_task_id}: {action}"


def test_task_remind(test_task_id: int) -> str | None:
    """Before the test expires, tell the worker how long is left."""
    with transaction.atomic():
        task = (
            timers.lock_for_update(_test_task_query())
            .filter(pk=test_task_id, remind_at__lte=clock.now())
            .first()
        )
        if task is None:
            return None
        timer = TEST_TASK_FLOW.timer_for(task.state)
        now = clock.now()
        if timer is None or task.due_at is None or task.due_at <= now:
            task.remind_at = None
            task.save(update_fields=["remind_at"])
            return None
        left = duration_label(task.due_at - now)
        app = task.application
        notify(
            user=app.worker, kind="test_task.reminder",
            title=f"「{app.job.title}」のテスト課題の期限まで残り{left}です",
            body=f"{local(task.due_at)}までに提出してください。作業を進められないときは質問すると時計が止まります。",
            url=_test_task_url(task),
            dedupe_key=f"test_task:{task.pk}:remind:{task.due_at.isoformat()}:{task.remind_at.isoformat()}",
        )
        task.remind_at = flows.next_reminder(task.due_at, timer, after=now)
        task.save(update_fields=["remind_at"])
    return f"test_task {test_task_id}: reminder"


timers.register(TestTask, settle=test_task_settle_due, remind=test_task_remind)


# --- scouting -------------------------------------------------------------------------------------------------


def scout_send(*, user, job_id: int, worker_id: int, message: str) -> Scout:
    """The client invites a worker to one of their open jobs: a scout thread, a message, a notification."""
    message = _clean_text(message, "スカウトメッセージ", 2_000)
    message_precheck(sender=user, text=message, field="message")
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("client").filter(pk=job_id).first()
        if job is None or job.client_id != user.pk:
            raise NotFound()
        person = get_user_model().objects.filter(pk=worker_id, is_active=True).first()
        if person is None:
            raise NotFound()
        if person.pk == user.pk:
            raise DomainError("own_job", "自分自身をスカウトすることはできません。")
        refuse_if_blocked(user.pk, person.pk)  # trust: no scouts between blocked users
        if job.state != "open" or job.application_deadline < clock.today():
            raise DomainError("closed", "募集中の仕事にだけスカウトを送れます。")
        if Application.objects.filter(job=job, worker=person).exists():
            raise DomainError("already_applied", f"{person.name}さんはすでにこの仕事に応募しています。", status=409)
        scout = Scout(job=job, worker=person, message=message, created_at=clock.now())
        scout.init_state("sent")
        try:
            with transaction.atomic():
                scout.save()
        except IntegrityError:
            raise DomainError("duplicate", f"{person.name}さんにはすでにこの仕事のスカウトを送っています。",
                              status=409) from None
        thread = thread_create(kind=Thread.Kind.SCOUT, subject=f"スカウト: {job.title}", members=[user, person])
        thread.job = job
        thread.save(update_fields=["job"])
        scout.thread = thread
        scout.save(update_fields=["thread"])
        audit.record(subject=scout, action="scout", actor=user, actor_role=Actor.CLIENT, to_state="sent",
                     payload={"job": job.pk, "worker": person.pk})
        message_send(thread=thread, sender=user, body=f"【スカウト】「{job.title}」\n{message}")
        notify(user=person, kind="scout.received", title=f"{user.name}さんからスカウトが届きました",
               body=f"「{job.title}」への応募のお誘いです。", url=f"/jobs/{job.pk}/",
               dedupe_key=f"scout:{scout.pk}:received")
    return scout


def _scout_answered_by(application: Application) -> None:
    """Inside `application_create`: applying to a job you were scouted for answers the scout."""
    scout = (Scout.objects.select_for_update(of=("self",)).select_related("thread", "job", "job__client")
             .filter(job_id=application.job_id, worker_id=application.worker_id, state="sent").first())
    if scout is None:
        return
    scout.application = application
    scout.save(update_fields=["application"])
    flows.apply(scout, "apply", actor=Actor.WORKER, user=application.worker, payload={"application": application.pk})
    if scout.thread:
        message_post_system(thread=scout.thread, body=f"{application.worker.name}さんがスカウトを受けて応募しました。")
    notify(user=scout.job.client, kind="scout.applied",
           title=f"スカウトした{application.worker.name}さんが応募しました",
           body=f"「{scout.job.title}」", url=f"/applications/{application.pk}/",
           dedupe_key=f"scout:{scout.pk}:applied")


def scout_decline(*, scout_id: int, user) -> Scout:
    with transaction.atomic():
        scout = (Scout.objects.select_for_update(of=("self",)).select_related("job", "job__client", "worker", "thread")
                 .filter(pk=scout_id).first())
        if scout is None:
            raise NotFound()
        if user.pk == scout.worker_id:
            role = Actor.WORKER
        elif user.pk == scout.job.client_id:
            role = Actor.CLIENT
        elif user.is_operator:
            role = Actor.OPERATOR
        else:
            raise NotFound()
        flows.apply(scout, "decline", actor=role, user=user)
        if scout.thread:
            message_post_system(thread=scout.thread, body=f"{scout.worker.name}さんがスカウトを辞退しました。")
        notify(user=scout.job.client, kind="scout.declined", title=f"{scout.worker.name}さんがスカウトを辞退しました",
               body=f"「{scout.job.title}」", url=f"/jobs/{scout.job_id}/", dedupe_key=f"scout:{scout.pk}:declined")
    return scout

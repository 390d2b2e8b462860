"""Test tasks on applications (PRODUCT.md §1, seed 000): the client sends a test with a due time; a blocker
question from the worker stops the clock until the client answers; the answer restarts it with exactly the time
that was left; both sides read the same remaining time; the test expires once, at its (resumed) due time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from anshin import rules
from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.jobs import selectors, services
from anshin.jobs.models import TestTask, duration_label
from anshin.messaging.models import Attachment, Message
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)
µs = timedelta(microseconds=1)
H = timedelta(hours=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def send(client_user, app, duration=timedelta(days=3), **over):
    data = dict(instructions="添付の画像を記事に挿入してください。", duration=duration,
                links="https://example.com/materials")
    data.update(over)
    return services.test_task_send(application_id=app.pk, user=client_user, **data)


def fresh(task) -> TestTask:
    return TestTask.objects.get(pk=task.pk)


def expirations(task):
    return AuditEvent.objects.filter(subject_type__model="testtask", subject_id=task.pk, action="expire")


def snapshot(task):
    t = fresh(task)
    return (t.state, t.state_entered_at, t.due_at, t.remind_at, t.remaining, t.paused_at, t.blocker_question,
            t.blocker_answer, t.submission_body, Message.objects.count(), AuditEvent.objects.count(),
            Notification.objects.count())


# --- seed 000: the clock stops on a blocker and resumes with the same remaining time ---------------------------

def test_seed_000_blocker_freezes_the_due_time_and_the_answer_resumes_with_the_same_remaining_time(
        clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app)
    assert task.state == "sent"
    assert task.due_at == START + timedelta(days=3)
    assert task.clock_label == "残り 3日"

    clock.move_to(START + 10 * H)  # the worker works for 10 h, then cannot find the materials
    assert fresh(task).clock_label == "残り 2日14時間"
    services.test_task_report_blocker(application_id=app.pk, user=worker, question="資料が見つかりません")
    task = fresh(task)
    assert task.state == "blocked"
    assert task.due_at is None and task.timer_action == "" and task.remind_at is None
    assert task.remaining == timedelta(hours=62)
    assert task.paused_at == START + 10 * H
    assert task.clock_label == "時計停止中（残り 2日14時間）"

    # the client is silent for 20 hours: the clock does not move, the remaining time stays the same
    clock.move_to(START + 30 * H)
    assert timers.sweep() == []
    assert fresh(task).clock_label == "時計停止中（残り 2日14時間）"
    # even past the original due time nothing expires
    clock.move_to(START + timedelta(days=3) + H)
    assert timers.sweep() == []
    task = fresh(task)
    assert task.state == "blocked" and task.remaining == timedelta(hours=62)
    assert not expirations(task).exists()
    # reading the application (either side) does not settle anything either
    assert selectors.test_task_get(application_id=app.pk, user=worker).state == "blocked"

    answered_at = START + timedelta(days=3) + H
    services.test_task_answer_blocker(application_id=app.pk, user=client_user,
                                      answer="共有フォルダの「素材」に入れました。")
    task = fresh(task)
    assert task.state == "sent"
    assert task.due_at == answered_at + timedelta(hours=62)  # exactly the remaining 62 h from the answer
    assert task.paused_at is None and task.blocker_answer == "共有フォルダの「素材」に入れました。"
    assert task.clock_label == "残り 2日14時間"
    assert task.remind_at == task.due_at - timedelta(hours=6)

    new_due = task.due_at
    clock.move_to(new_due - µs)
    assert not [line for line in timers.sweep() if "expire" in line]
    assert fresh(task).state == "sent"
    clock.move_to(new_due)
    assert timers.sweep() == [f"test_task {task.pk}: expire"]
    assert timers.sweep() == []
    task = fresh(task)
    assert task.state == "expired" and task.remaining == timedelta(0) and task.due_at is None
    assert expirations(task).count() == 1
    assert expirations(task).get().actor_role == "system"


def test_the_thread_tells_both_sides_each_step(clock, client_user, worker):
    app = factories.application(client_user, worker)
    send(client_user, app)
    clock.shift(10 * H)
    services.test_task_report_blocker(application_id=app.pk, user=worker, question="資料が見つかりません")
    clock.shift(20 * H)
    services.test_task_answer_blocker(application_id=app.pk, user=client_user, answer="再共有しました。")
    clock.shift(H)
    services.test_task_submit(application_id=app.pk, user=worker, body="完成しました。", links="https://example.com/x")
    services.test_task_evaluate(application_id=app.pk, user=client_user, result="pass", comment="丁寧でした。")
    bodies = list(app.thread.messages.order_by("created_at", "id").values_list("kind", "body"))
    texts = [body for _, body in bodies]
    assert any(b.startswith("【テスト課題】\n添付の画像を記事に挿入してください。")
               and "https://example.com/materials" in b
               and "制限時間: 3日（期限: 2026/04/04 10:00）" in b for b in texts)
    assert any("テスト課題が届きました（制限時間 3日、期限 2026/04/04 10:00）" in b for b in texts)
    assert "【テスト課題についての質問】\n資料が見つかりません" in texts
    assert any("時計を止めています（時計停止中（残り 2日14時間））" in b for b in texts)
    assert any("時計を再開しました（残り 2日14時間、新しい期限 2026/04/05 06:00）" in b for b in texts)
    assert any("提出しました（期限まで残り 2日13時間）" in b for b in texts)
    assert any(b.startswith("テスト課題は合格です。コメント: 丁寧でした。") for b in texts)
    kinds = dict(Notification.objects.filter(kind__startswith="test_task.").values_list("kind", "user__email"))
    assert kinds == {
        "test_task.send": "worker@example.com",
        "test_task.report_blocker": "client@example.com",
        "test_task.answer_blocker": "worker@example.com",
        "test_task.submit": "client@example.com",
        "test_task.pass": "worker@example.com",
    }
    task = TestTask.objects.get(application=app)
    assert task.state == "passed" and task.submission_links == "https://example.com/x"
    assert task.remaining == timedelta(hours=61)


def test_materials_travel_as_attachments_on_the_clients_message(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, files=[SimpleUploadedFile("素材.zip", b"PK...", content_type="application/zip")])
    assert task.material_message.sender == client_user
    assert task.material_message.thread == app.thread
    assert list(Attachment.objects.filter(message=task.material_message).values_list("name", flat=True)) == ["素材.zip"]
    services.test_task_submit(application_id=app.pk, user=worker, body="提出します",
                              files=[SimpleUploadedFile("result.png", b"\x89PNG", content_type="image/png")])
    task = fresh(task)
    assert task.submission_message.attachments.get().name == "result.png"


def test_several_blockers_each_pause_the_clock(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(hours=10))
    for worked, silent in ((2 * H, 5 * H), (3 * H, 30 * H)):
        clock.shift(worked)
        services.test_task_report_blocker(application_id=app.pk, user=worker, question="質問です")
        clock.shift(silent)
        services.test_task_answer_blocker(application_id=app.pk, user=client_user, answer="回答です")
    task = fresh(task)
    assert task.remaining == 5 * H
    assert task.due_at == START + 2 * H + 5 * H + 3 * H + 30 * H + 5 * H


def test_submit_while_blocked_is_allowed_and_stops_for_good(clock, client_user, worker):
    app = factories.application(client_user, worker)
    send(client_user, app)
    clock.shift(H)
    services.test_task_report_blocker(application_id=app.pk, user=worker, question="資料が見つかりません")
    clock.shift(H)
    task = services.test_task_submit(application_id=app.pk, user=worker, body="自分で見つけました。提出します。")
    assert task.state == "submitted" and task.due_at is None and task.remaining == timedelta(days=3) - H
    clock.shift(timedelta(days=30))
    assert timers.sweep() == []
    assert fresh(task).state == "submitted"


# --- the timer: boundary, reminder, settle on read -------------------------------------------------------------

def test_expires_exactly_at_the_due_time_once(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(hours=5))
    clock.move_to(START + 5 * H - µs)
    assert timers.sweep() == []
    assert fresh(task).state == "sent"
    assert fresh(task).clock_label == "残り 0分"
    clock.move_to(START + 5 * H)
    assert timers.sweep() == [f"test_task {task.pk}: expire"]
    assert timers.sweep() == []
    assert expirations(task).count() == 1
    both = Notification.objects.filter(kind="test_task.expire")
    assert sorted(both.values_list("user__email", flat=True)) == ["client@example.com", "worker@example.com"]


def test_reminder_to_the_worker_six_hours_before(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(days=1))
    assert task.remind_at == START + timedelta(hours=18)
    clock.move_to(START + timedelta(hours=18) - µs)
    assert timers.sweep() == []
    clock.move_to(START + timedelta(hours=18))
    assert timers.sweep() == [f"test_task {task.pk}: reminder"]
    assert timers.sweep() == []
    note = Notification.objects.get(kind="test_task.reminder")
    assert note.user == worker and "残り6時間" in note.title
    assert fresh(task).remind_at is None


def test_blocked_clock_sends_no_reminder_and_the_answer_rearms_it(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(days=1))
    clock.shift(17 * H)
    services.test_task_report_blocker(application_id=app.pk, user=worker, question="資料が見つかりません")
    clock.shift(timedelta(days=2))
    assert timers.sweep() == []
    assert not Notification.objects.filter(kind="test_task.reminder").exists()
    services.test_task_answer_blocker(application_id=app.pk, user=client_user, answer="どうぞ")
    task = fresh(task)
    assert task.due_at == clock_now(clock) + 7 * H
    assert task.remind_at == task.due_at - 6 * H


def clock_now(traveller):
    from anshin.core import clock as anshin_clock

    return anshin_clock.now()


def test_a_test_read_after_its_due_time_is_settled_on_the_spot(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(hours=2))
    clock.shift(2 * H)
    assert selectors.test_task_get(application_id=app.pk, user=worker).state == "expired"
    assert expirations(task).count() == 1
    assert timers.sweep() == []


def test_a_late_submit_is_refused_and_the_test_expires(clock, client_user, worker):
    app = factories.application(client_user, worker)
    task = send(client_user, app, duration=timedelta(hours=2))
    clock.shift(2 * H)
    with pytest.raises(DomainError) as refused:
        services.test_task_submit(application_id=app.pk, user=worker, body="遅れました")
    assert refused.value.code == "not_allowed" and "期限切れ" in refused.value.message
    task = fresh(task)
    assert task.state == "expired" and task.submission_body == ""
    assert expirations(task).count() == 1


# --- who may do what ---------------------------------------------------------------------------------------------

def test_only_the_jobs_client_sends_to_an_open_application(clock, client_user, worker, stranger):
    app = factories.application(client_user, worker)
    with pytest.raises(DomainError) as refused:
        send(worker, app)
    assert refused.value.status == 403 and "発注者だけ" in refused.value.message
    with pytest.raises(NotFound):
        send(stranger, app)
    with pytest.raises(NotFound):
        services.test_task_send(application_id=424242, user=client_user, instructions="x", duration=H)
    assert not TestTask.objects.exists()
    assert not Message.objects.filter(body__startswith="【テスト課題】").exists()


@pytest.mark.parametrize("state", ["declined", "withdrawn", "offered"])
def test_no_test_for_a_closed_application(clock, client_user, worker, state):
    app = factories.application(client_user, worker)
    if state == "declined":
        services.application_transition(application_id=app.pk, user=client_user, action="decline", reason="budget")
    elif state == "withdrawn":
        services.application_transition(application_id=app.pk, user=worker, action="withdraw")
    else:
        from anshin.contracts import services as contracts

        contracts.contract_offer(application_id=app.pk, user=client_user, amount=30_000,
                                 delivery_date=START.date() + timedelta(days=10))
    with pytest.raises(DomainError) as refused:
        send(client_user, app)
    assert refused.value.code == "not_allowed" and "テスト課題を送れません" in refused.value.message
    assert not TestTask.objects.exists()


def test_shortlisted_application_can_get_a_test_but_only_one(clock, client_user, worker):
    app = factories.application(client_user, worker)
    services.application_transition(application_id=app.pk, user=client_user, action="shortlist")
    send(client_user, app)
    messages = Message.objects.count()
    with pytest.raises(DomainError) as refused:
        send(client_user, app)
    assert refused.value.status == 409
    assert TestTask.objects.count() == 1 and Message.objects.count() == messages


@pytest.mark.parametrize(("duration", "ok"), [
    (H - timedelta(minutes=1), False),
    (H, True),
    (rules.TEST_TASK_MAX_DURATION, True),
    (rules.TEST_TASK_MAX_DURATION + timedelta(minutes=1), False),
    (timedelta(0), False),
    (-H, False),
    (H + timedelta(seconds=30), False),  # minutes, not seconds
    (3, False),  # not a duration
])
def test_duration_limits(clock, client_user, worker, duration, ok):
    app = factories.application(client_user, worker)
    if ok:
        assert send(client_user, app, duration=duration).due_at == START + duration
        return
    with pytest.raises(DomainError) as refused:
        send(client_user, app, duration=duration)
    assert refused.value.code == "invalid_duration"
    assert "制限時間" in refused.value.message
    assert not TestTask.objects.exists()


@pytest.mark.parametrize(("over", "code"), [
    ({"instructions": "   "}, "empty"),
    ({"instructions": "あ" * 5_001}, "too_long"),
    ({"links": "ftp://example.com/x"}, "invalid_link"),
    ({"links": "javascript:alert(1)"}, "invalid_link"),
    ({"files": [SimpleUploadedFile("virus.exe", b"MZ")]}, "file_type"),
])
def test_bad_send_input_changes_nothing(clock, client_user, worker, over, code):
    app = factories.application(client_user, worker)
    messages = Message.objects.count()
    with pytest.raises(DomainError) as refused:
        send(client_user, app, **over)
    assert refused.value.code == code
    assert not TestTask.objects.exists() and Message.objects.count() == messages


@pytest.fixture
def sent(clock, client_user, worker):
    app = factories.application(client_user, worker)
    return send(client_user, app)


@pytest.mark.parametrize(("who", "call"), [
    ("client", lambda app, user: services.test_task_report_blocker(application_id=app, user=user, question="?")),
    ("worker", lambda app, user: services.test_task_answer_blocker(application_id=app, user=user, answer="!")),
    ("client", lambda app, user: services.test_task_submit(application_id=app, user=user, body="代理提出")),
    ("worker", lambda app, user: services.test_task_evaluate(application_id=app, user=user, result="pass")),
    ("client", lambda app, user: services.test_task_evaluate(application_id=app, user=user, result="pass")),
    ("client", lambda app, user: services.test_task_answer_blocker(application_id=app, user=user, answer="!")),
])
def test_wrong_party_or_state_is_refused_and_changes_nothing(sent, client_user, worker, who, call):
    user = client_user if who == "client" else worker
    before = snapshot(sent)
    with pytest.raises(DomainError) as refused:
        call(sent.application_id, user)
    assert refused.value.code == "not_allowed"
    assert "この操作はできません" in refused.value.message
    assert snapshot(sent) == before


def test_non_party_gets_not_found_for_every_action(sent, stranger):
    before = snapshot(sent)
    for call in (
        lambda: services.test_task_report_blocker(application_id=sent.application_id, user=stranger, question="?"),
        lambda: services.test_task_answer_blocker(application_id=sent.application_id, user=stranger, answer="!"),
        lambda: services.test_task_submit(application_id=sent.application_id, user=stranger, body="x"),
        lambda: services.test_task_evaluate(application_id=sent.application_id, user=stranger, result="fail"),
        lambda: selectors.test_task_get(application_id=sent.application_id, user=stranger),
    ):
        with pytest.raises(NotFound):
            call()
    assert snapshot(sent) == before


def test_evaluation_needs_a_submission_and_a_valid_verdict(sent, client_user, worker):
    app_id = sent.application_id
    services.test_task_submit(application_id=app_id, user=worker, body="提出します")
    before = snapshot(sent)
    for result in ("maybe", "", "expire"):
        with pytest.raises(DomainError):
            services.test_task_evaluate(application_id=app_id, user=client_user, result=result)
    with pytest.raises(DomainError) as refused:
        services.test_task_evaluate(application_id=app_id, user=client_user, result="fail", comment="x" * 2_001)
    assert refused.value.code == "too_long"
    assert snapshot(sent) == before
    task = services.test_task_evaluate(application_id=app_id, user=client_user, result="fail")
    assert task.state == "failed"
    with pytest.raises(DomainError):
        services.test_task_evaluate(application_id=app_id, user=client_user, result="pass")


def test_empty_question_answer_or_submission_is_refused(sent, client_user, worker):
    app_id = sent.application_id
    before = snapshot(sent)
    with pytest.raises(DomainError) as refused:
        services.test_task_report_blocker(application_id=app_id, user=worker, question="  ")
    assert refused.value.message == "質問を入力してください。"
    with pytest.raises(DomainError):
        services.test_task_submit(application_id=app_id, user=worker, body="")
    with pytest.raises(DomainError):
        services.test_task_submit(application_id=app_id, user=worker, body="ok", links="not a url")
    assert snapshot(sent) == before
    services.test_task_report_blocker(application_id=app_id, user=worker, question="資料は？")
    before = snapshot(sent)
    with pytest.raises(DomainError) as refused:
        services.test_task_answer_blocker(application_id=app_id, user=client_user, answer="")
    assert refused.value.message == "回答を入力してください。"
    assert snapshot(sent) == before


def test_operator_can_act_as_either_side(sent, operator, worker):
    services.test_task_report_blocker(application_id=sent.application_id, user=operator, question="事務局より確認")
    services.test_task_answer_blocker(application_id=sent.application_id, user=operator, answer="回答を代理入力")
    assert fresh(sent).state == "sent"


@pytest.mark.parametrize(("delta", "label"), [
    (timedelta(days=3), "3日"),
    (timedelta(hours=62), "2日14時間"),
    (timedelta(hours=5, minutes=20), "5時間20分"),
    (timedelta(hours=5), "5時間"),
    (timedelta(minutes=59, seconds=59), "59分"),
    (timedelta(seconds=-5), "0分"),
])
def test_duration_labels(delta, label):
    assert duration_label(delta) == label

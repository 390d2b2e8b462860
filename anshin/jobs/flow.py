"""Job and application flows (PRODUCT.md §1)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anshin import rules
from anshin.core.flows import Actor, Flow, T, Timer

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM

# §1 募集終了: an open job closes itself when its application deadline day ends (00:00 JST the next day). The
# Timer reads `Job.until_deadline`, so entering `open` (posting, reopening) arms it at the end of the deadline
# day, whenever that is; editing the deadline re-arms it. Reopening after the deadline is refused until the
# client sets a new one (the guard), or the job would close again at the next tick.
JOB_FLOW = Flow(
    name="job",
    states={"open": _("募集中"), "closed": _("募集終了")},
    transitions=[
        T("close", ("open",), "closed", (C, O), _("募集を終了する"), "secondary"),
        T("reopen", ("closed",), "open", (C, O), _("募集を再開する"), "secondary", guard="reopen_refusal"),
        T("expire", ("open",), "closed", (S,)),
    ],
    timers=[Timer("open", "until_deadline", "expire")],
)

APPLICATION_FLOW = Flow(
    name="application",
    states={
        "applied": _("応募中"),
        "shortlisted": _("候補"),
        "offered": _("契約オファー済み"),
        "declined": _("見送り"),
        "withdrawn": _("辞退"),
    },
    transitions=[
        T("shortlist", ("applied",), "shortlisted", (C, O), _("候補に入れる"), "secondary"),
        T("unshortlist", ("shortlisted",), "applied", (C, O), _("候補から外す"), "secondary"),
        T("decline", ("applied", "shortlisted"), "declined", (C, O), _("見送る"), "danger"),
        T("offer", ("applied", "shortlisted"), "offered", (C, O), _("契約をオファーする")),
        T("withdraw", ("applied", "shortlisted"), "withdrawn", (W, O), _("応募を辞退する"), "danger"),
    ],
    terminal=frozenset({"offered", "declined", "withdrawn"}),  # after an offer, the contract carries the story
)

# §1 test tasks. The clock pauses: while the worker's blocker question waits for the client's answer the test
# sits in `blocked`, which has no timer; `remaining` keeps the time that was left, and the answer re-enters
# `sent` armed with exactly that remaining time (Timer.after names the field), never the full duration again.

TEST_TASK_FLOW = Flow(
    name="test_task",
    states={
        "sent": _("作業中"),
        "blocked": _("確認待ち（時計停止中）"),
        "submitted": _("提出済み（評価待ち）"),
        "passed": _("合格"),
        "failed": _("不合格"),
        "expired": _("期限切れ"),
    },
    transitions=[
        T("report_blocker", ("sent",), "blocked", (W, O), _("質問して時計を止める"), "secondary"),
        T("answer_blocker", ("blocked",), "sent", (C, O), _("回答して再開する")),
        T("submit", ("sent", "blocked"), "submitted", (W, O), _("提出する")),
        T("pass", ("submitted",), "passed", (C, O), _("合格にする")),
        T("fail", ("submitted",), "failed", (C, O), _("不合格にする"), "danger"),
        T("expire", ("sent",), "expired", (S,)),
    ],
    timers=[Timer("sent", "remaining", "expire", reminders=rules.TEST_TASK_REMINDERS)],
    terminal=frozenset({"passed", "failed", "expired"}),
)

# Each test-task action needs input (a question, an answer, the work, a verdict): forms in the UI, bodies in the API.
TEST_TASK_FORM_ACTIONS = {"report_blocker", "answer_blocker", "submit", "pass", "fail"}

# §1 scouting: the client invites a worker to an open job; applying (or declining) answers it.
SCOUT_FLOW = Flow(
    name="scout",
    states={
        "sent": _("返信待ち"),
        "applied": pgettext_lazy("scout state", "応募済み"),
        "declined": pgettext_lazy("scout state", "辞退"),
    },
    transitions=[
        T("apply", ("sent",), "applied", (W, O), _("応募する")),
        T("decline", ("sent",), "declined", (W, O), _("スカウトを辞退する"), "danger"),
    ],
    terminal=frozenset({"applied", "declined"}),
)

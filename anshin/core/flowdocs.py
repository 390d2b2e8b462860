"""docs/flows.md, drawn from the flow tables: a Mermaid state diagram and a table per flow.

Everything here is read from `Flow.states`, `Flow.transitions`, `Flow.timers` and `Flow.terminal`, so the
document cannot disagree with the code; `manage.py flowdocs --check` (and a test) fail when it is stale.
The first state of a table is where a deal starts.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import translation

from anshin.contracts.flow import CONTRACT_FLOW, TERMINATION_FLOW
from anshin.core.flows import Actor, Flow, T, Timer
from anshin.deals.flow import DATE_CHANGE_FLOW
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW, SCOUT_FLOW, TEST_TASK_FLOW
from anshin.orders.flow import CANCEL_REQUEST_FLOW, LISTING_FLOW, ORDER_FLOW
from anshin.payouts.flow import WITHDRAWAL_FLOW

# (flow, module holding its table). Add new deal types (orders, …) here.
FLOWS: list[tuple[Flow, str]] = [
    (CONTRACT_FLOW, "anshin/contracts/flow.py"),
    (TERMINATION_FLOW, "anshin/contracts/flow.py"),
    (DATE_CHANGE_FLOW, "anshin/deals/flow.py"),
    (JOB_FLOW, "anshin/jobs/flow.py"),
    (APPLICATION_FLOW, "anshin/jobs/flow.py"),
    (TEST_TASK_FLOW, "anshin/jobs/flow.py"),
    (SCOUT_FLOW, "anshin/jobs/flow.py"),
    (LISTING_FLOW, "anshin/orders/flow.py"),
    (ORDER_FLOW, "anshin/orders/flow.py"),
    (CANCEL_REQUEST_FLOW, "anshin/orders/flow.py"),
    (WITHDRAWAL_FLOW, "anshin/payouts/flow.py"),
]

ACTOR_LABELS = {
    Actor.CLIENT: "発注者",
    Actor.WORKER: "受注者",
    Actor.OPERATOR: "事務局",
    Actor.SYSTEM: "システム",
}

OUTPUT = "docs/flows.md"


def output_path():
    return settings.BASE_DIR / OUTPUT


def duration(delta: timedelta) -> str:
    """7日, 48時間, 30分 — the largest unit that divides the duration exactly."""
    seconds = int(delta.total_seconds())
    for unit, name in ((86400, "日"), (3600, "時間"), (60, "分")):
        if seconds % unit == 0:
            return f"{seconds // unit}{name}"
    return f"{seconds}秒"


def _who(t: T) -> str:
    return "・".join(ACTOR_LABELS[a] for a in t.actors)


def _timer(flow: Flow, t: T, source: str) -> Timer | None:
    timer = flow.timer_for(source)
    if timer and timer.action == t.action and Actor.SYSTEM in t.actors:
        return timer
    return None


def _after(timer: Timer) -> str:
    """A fixed duration, or a clock that can pause: the remaining time kept in a field of the deal."""
    return f"残り時間（`{timer.after}`）" if isinstance(timer.after, str) else duration(timer.after)


def _timer_text(timer: Timer | None) -> str:
    if timer is None:
        return ""
    text = f"`{timer.state}` に入って{_after(timer)}後"
    if timer.reminders:
        text += "（リマインド: " + "、".join(f"{duration(r)}前" for r in timer.reminders) + "）"
    return text


def mermaid(flow: Flow) -> str:
    lines = ["stateDiagram-v2"]
    for state, label in flow.states.items():
        lines.append(f'    state "{label}" as {state}')
    lines.append(f"    [*] --> {next(iter(flow.states))}")
    for t in flow.transitions:
        for source in t.sources:
            timer = _timer(flow, t, source)
            who = f"⏱ {_after(timer)}" if timer else _who(t)
            lines.append(f"    {source} --> {t.target}: {t.action}（{who}）")
    for state in flow.states:
        if state in flow.terminal:
            lines.append(f"    {state} --> [*]")
    return "\n".join(lines)


def table(flow: Flow) -> str:
    rows = [
        "| 操作 (action) | ボタン | 前 (from) | 後 (to) | 誰が (who) | タイマー (timer) |",
        "|---|---|---|---|---|---|",
    ]
    for t in flow.transitions:
        timers = [_timer_text(_timer(flow, t, s)) for s in t.sources]
        rows.append(
            f"| `{t.action}` | {t.label} | {', '.join(f'`{s}`' for s in t.sources)} | `{t.target}` | {_who(t)} "
            f"| {'、'.join(x for x in timers if x)} |"
        )
    return "\n".join(rows)


def states_table(flow: Flow) -> str:
    rows = ["| 状態 (state) | 表示 | 終了状態 |", "|---|---|---|"]
    for state, label in flow.states.items():
        rows.append(f"| `{state}` | {label} | {'○' if state in flow.terminal else ''} |")
    return "\n".join(rows)


def render() -> str:
    """The document is in Japanese (the source language of the labels) whatever language is active."""
    with translation.override(settings.LANGUAGE_CODE):
        return _render()


def _render() -> str:
    parts = [
        "# Flows",
        "",
        "Generated from the flow tables by `manage.py flowdocs` (`make flowdocs`) — do not edit by hand.",
        "Timers are measured from the *last* entry into their state; SYSTEM rows are fired by `manage.py tick`",
        "or settled on read. Operators (事務局) have a twin of every party move.",
    ]
    for flow, module in FLOWS:
        parts += [
            "",
            f"## {flow.name}",
            "",
            f"Table: `{module}`",
            "",
            "```mermaid",
            mermaid(flow),
            "```",
            "",
            states_table(flow),
            "",
            table(flow),
        ]
    return "\n".join(parts) + "\n"

"""The flow engine: the only code that writes a `state` field.

A flow is a table of transitions `(action, sources, target, actors, label)` plus timers per state. Services
lock the deal row, then call `apply()`; the engine checks the table, moves the state, (re)arms the timer of
the new state measured from *this* entry into it, and writes the audit event — all in the caller's
transaction. Buttons, API "allowed actions" and the diagrams in docs/ are all read from the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import models
from django.utils import translation

from anshin.core import audit, clock
from anshin.core.errors import DomainError


def site_text(text) -> str:
    """A (lazy) label in the site language, Japanese, whatever the reader chose: for text that is stored —
    system messages, notifications, errors — and so must not depend on who happened to trigger it."""
    if translation.get_language() == settings.LANGUAGE_CODE:
        return str(text)  # already Japanese (the clock, most requests): switching costs more than the label
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


class Labels(dict):
    """state -> label. The tables hold lazy translations (Japanese msgids); reading gives plain text in the active
    language, so `label in message`, f-strings and API schemas just work. `site(state)` is the Japanese label."""

    def __getitem__(self, state):
        return str(super().__getitem__(state))

    def get(self, state, default=None):
        return self[state] if state in self else default

    def items(self):
        return [(state, str(label)) for state, label in super().items()]

    def values(self):
        return [str(label) for label in super().values()]

    def site(self, state) -> str:
        return site_text(super().__getitem__(state)) if state in self else state


class Actor(StrEnum):
    CLIENT = "client"
    WORKER = "worker"
    OPERATOR = "operator"
    SYSTEM = "system"


PARTY = (Actor.CLIENT, Actor.WORKER)


@dataclass(frozen=True)
class T:
    """One row of a flow table."""

    action: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[Actor, ...]
    label: str = ""  # a lazy translation (gettext_lazy) in the tables: str() it outside templates
    style: str = "primary"  # how the UI draws the button: primary, secondary, danger
    # A condition beyond the state, named as a method of the deal returning "" when met or the Japanese
    # reason it is not (e.g. "is_overdue": 納期を3日過ぎるまでは終了できません). Checked by the engine.
    guard: str = ""


@dataclass(frozen=True)
class Timer:
    """While a deal sits in `state`, SYSTEM fires `action` `after` its last entry; reminders go out before.

    `after` is a duration, or the name of a field of the deal holding one: a clock that can pause. A test task
    keeps its remaining time in a field while the clock is stopped, and re-entering the state arms the timer
    with that remaining time instead of restarting the full duration."""

    state: str
    after: timedelta | str
    action: str
    reminders: tuple[timedelta, ...] = ()


@dataclass
class Flow:
    name: str
    states: dict[str, str]  # state -> label: Japanese msgids in gettext_lazy (English in locale/en); see Labels
    transitions: list[T]
    timers: list[Timer] = field(default_factory=list)
    terminal: frozenset[str] = frozenset()

    def __post_init__(self):
        self.states = Labels(self.states)
        for t in self.transitions:
            unknown = {*t.sources, t.target} - self.states.keys()
            assert not unknown, f"{self.name}.{t.action}: unknown states {unknown}"
        for timer in self.timers:
            assert any(
                t.action == timer.action and timer.state in t.sources and Actor.SYSTEM in t.actors
                for t in self.transitions
            ), f"{self.name}: timer {timer.action} has no SYSTEM row from {timer.state}"

    def timer_for(self, state: str) -> Timer | None:
        return next((t for t in self.timers if t.state == state), None)

    def allowed(self, state: str, actors: Iterable[Actor], obj=None) -> list[T]:
        """Rows these actors may take from `state`; with `obj`, only those whose guard holds now."""
        actors = set(actors)
        return [
            t for t in self.transitions
            if state in t.sources and actors & set(t.actors) and not (obj is not None and guard_refusal(obj, t))
        ]

    def find(self, action: str, state: str, actor: Actor, obj=None) -> T:
        for t in self.transitions:
            if t.action == action and state in t.sources and actor in t.actors:
                refusal = guard_refusal(obj, t) if obj is not None else ""
                if refusal:
                    raise DomainError("not_allowed", refusal)
                return t
        if not any(t.action == action for t in self.transitions):
            raise DomainError("unknown_action", f"「{action}」という操作はありません。")
        label = self.states.site(state)  # DomainError messages stay Japanese for now
        raise DomainError("not_allowed", f"現在の状態（{label}）ではこの操作はできません。")


def guard_refusal(obj, transition: T) -> str:
    """"" when the row's guard (if any) holds for `obj`, else the Japanese reason."""
    return getattr(obj, transition.guard)() if transition.guard else ""


class FlowModel(models.Model):
    """State plus the timer columns that `tick` sweeps."""

    state = models.CharField(max_length=32, db_index=True)
    state_entered_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    timer_action = models.CharField(max_length=32, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    flow: Flow  # set by each subclass

    @property
    def state_label(self) -> str:
        """In the active language (plain str: see `Labels`)."""
        return self.flow.states[self.state]

    def init_state(self, state: str, at: datetime | None = None) -> None:
        """For creation only: a new deal starts in `state` with that state's timer armed."""
        self.state = state
        self.state_entered_at = at or clock.now()
        _arm(self, self.flow.timer_for(state))


def rearm(obj: FlowModel) -> None:
    """Arm the current state's timer again from the same entry, after something it is measured from changed
    (a job's deadline). Not saved: the caller saves with the rest of its change."""
    _arm(obj, obj.flow.timer_for(obj.state))


def _arm(obj: FlowModel, timer: Timer | None) -> None:
    if timer is None:
        obj.due_at, obj.timer_action, obj.remind_at = None, "", None
        return
    after = getattr(obj, timer.after) if isinstance(timer.after, str) else timer.after
    obj.due_at = obj.state_entered_at + after
    obj.timer_action = timer.action
    obj.remind_at = next_reminder(obj.due_at, timer, after=obj.state_entered_at)


def next_reminder(due_at: datetime, timer: Timer, *, after: datetime) -> datetime | None:
    """The earliest reminder time strictly later than `after` (reminders are offsets before due_at)."""
    times = sorted(due_at - before for before in timer.reminders)
    return next((t for t in times if t > after), None)


TIMER_FIELDS = ("state", "state_entered_at", "due_at", "timer_action", "remind_at")


def apply(obj: FlowModel, action: str, *, actor: Actor, user=None, payload: dict | None = None) -> T:
    """Move `obj` (already locked by the caller) along its flow. Returns the transition taken."""
    transition, source = _step(obj, action, actor, clock.now())
    obj.save(update_fields=TIMER_FIELDS)
    audit.record(
        subject=obj,
        action=action,
        actor=user,
        actor_role=actor,
        from_state=source,
        to_state=transition.target,
        payload=payload or {},
    )
    return transition


def apply_many(objs: list[FlowModel], action: str, *, actor: Actor,
               payload: dict | Callable[[FlowModel], dict] | None = None, also: dict | None = None) -> None:
    """`apply()` to many locked deals of one model (the clock settling a batch): the same checks and moves,
    one UPDATE per distinct outcome (one, when the target state has no timer), the audit events in one insert.
    `payload`: the audit payload of every event, or a function giving each deal's. `also`: other columns the
    move sets on every row (e.g. accepted_at), written in the same UPDATE."""
    now = clock.now()  # one instant for the batch
    outcomes: dict[tuple, list[int]] = {}
    events = []
    for obj in objs:
        transition, source = _step(obj, action, actor, now)
        outcomes.setdefault(tuple((name, getattr(obj, name)) for name in TIMER_FIELDS), []).append(obj.pk)
        events.append(dict(subject=obj, action=action, actor_role=actor, from_state=source,
                           to_state=transition.target,
                           payload=payload(obj) if callable(payload) else payload or {}))
    for values, pks in outcomes.items():
        type(objs[0]).objects.filter(pk__in=pks).update(**dict(values), **(also or {}))
    for obj in objs:
        for name, value in (also or {}).items():
            setattr(obj, name, value)
    audit.record_many(events)


def _step(obj: FlowModel, action: str, actor: Actor, now: datetime) -> tuple[T, str]:
    """In memory: check the table, move the state, (re)arm the timer. Returns (transition, source state)."""
    transition = obj.flow.find(action, obj.state, actor, obj)
    source = obj.state
    obj.state = transition.target
    obj.state_entered_at = now
    _arm(obj, obj.flow.timer_for(transition.target))
    return transition, source

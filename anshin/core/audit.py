"""Append-only audit log: every transition and operator decision. Deal timelines are read from it."""

from django.contrib.contenttypes.models import ContentType

from anshin.core import bulk, clock


def record(*, subject, action: str, actor=None, actor_role: str = "", from_state: str = "", to_state: str = "",
           payload: dict | None = None):
    from anshin.accounts.figures import figures_touch_parties
    from anshin.core.models import AuditEvent

    figures_touch_parties(subject)  # a deal, job or review window moved: its people's figures may have changed
    event = AuditEvent(**_row(subject=subject, action=action, actor=actor, actor_role=actor_role,
                              from_state=from_state, to_state=to_state, payload=payload))
    event.save(force_insert=True)
    return event


def _row(*, subject, action: str, actor=None, actor_role: str = "", from_state: str = "", to_state: str = "",
         payload: dict | None = None) -> dict:
    return dict(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        action=action,
        actor=actor,
        actor_role=str(actor_role),
        from_state=from_state,
        to_state=to_state,
        payload=payload or {},
        created_at=clock.now(),
    )


def record_many(events: list[dict]) -> None:
    """`record(**event)` for each event, in one COPY (the clock settling a batch of deals); the figures of
    every party touched are marked stale in one update."""
    from anshin.accounts.figures import PARTIES, figures_touch
    from anshin.core.models import AuditEvent

    figures_touch({getattr(event["subject"], name, None) for event in events for name in PARTIES})
    bulk.insert(AuditEvent, [_row(**event) for event in events])


def timeline(subject):
    from anshin.core.models import AuditEvent

    return (
        AuditEvent.objects.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )

"""Build deals through the real services, so tests start from states the product can actually reach."""

from datetime import timedelta

from anshin.contracts import services as contracts
from anshin.core import clock
from anshin.jobs import services as jobs


def job(client, **over):
    today = clock.now().date()
    data = dict(
        title="記事に写真を挿入する業務",
        description="WordPressの記事10本に写真を挿入してください。",
        category="writing",
        budget_max=30_000,
        application_deadline=today + timedelta(days=14),
        delivery_date=today + timedelta(days=30),
    )
    data.update(over)
    return jobs.job_create(user=client, **data)


def application(client, worker, **over):
    the_job = over.pop("job", None) or job(client)
    data = dict(
        message="よろしくお願いいたします。", amount=30_000, estimated_date=clock.now().date() + timedelta(days=20)
    )
    data.update(over)
    return jobs.application_create(job_id=the_job.pk, user=worker, **data)


def contract(client, worker, state="offered", amount=30_000):
    """A contract walked through the services up to `state` (offered, awaiting_funding, funded, delivered,
    revision_requested, accepted)."""
    app = application(client, worker, amount=amount)
    c = contracts.contract_offer(
        application_id=app.pk, user=client, amount=amount, delivery_date=clock.now().date() + timedelta(days=20)
    )
    steps = {
        "awaiting_funding": lambda: contracts.contract_simple_action(
            contract_id=c.pk, user=worker, action="accept_offer"
        ),
        "funded": lambda: contracts.contract_fund(contract_id=c.pk, user=client),
        "delivered": lambda: contracts.contract_deliver(contract_id=c.pk, user=worker, body="納品します。"),
        "revision_requested": lambda: contracts.contract_request_revision(
            contract_id=c.pk, user=client, reason="写真の位置を修正してください"
        ),
        "accepted": lambda: contracts.contract_simple_action(contract_id=c.pk, user=client, action="accept"),
    }
    order = [
        "awaiting_funding",
        "funded",
        "delivered",
        "revision_requested" if state == "revision_requested" else "accepted",
    ]
    if state != "offered":
        for step in order[: order.index(state) + 1]:
            steps[step]()
    c.refresh_from_db()
    return c

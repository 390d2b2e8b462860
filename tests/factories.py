"""Build deals through the real services, so tests start from states the product can actually reach."""

from datetime import timedelta

from anshin.contracts import services as contracts
from anshin.core import clock
from anshin.jobs import services as jobs


def job(client, **over):
    today = clock.today()
    data = dict(
        title="記事に写真を挿入する業務",
        description="WordPressの記事10本に写真を挿入してください。",
        category="writing",
        budget_max=30_000,
        # Far off: the deadline closes the job (募集終了, a timer), and the timer tests travel months ahead.
        application_deadline=today + timedelta(days=365),
        delivery_date=today + timedelta(days=380),
    )
    data.update(over)
    return jobs.job_create(user=client, **data)


def application(client, worker, **over):
    the_job = over.pop("job", None) or job(client)
    data = dict(
        message="よろしくお願いいたします。", amount=30_000, estimated_date=clock.today() + timedelta(days=20)
    )
    data.update(over)
    return jobs.application_create(job_id=the_job.pk, user=worker, **data)


def contract(client, worker, state="offered", amount=30_000):
    """A contract walked through the services up to `state` (offered, awaiting_funding, funded, delivered,
    revision_requested, accepted)."""
    app = application(client, worker, amount=amount)
    c = contracts.contract_offer(
        application_id=app.pk, user=client, amount=amount, delivery_date=clock.today() + timedelta(days=20)
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


# --- service listings and orders (issue 3) ---------------------------------------------------------------

HEARING = [
    {"kind": "text", "text": "ご依頼の内容を教えてください", "choices": [], "example": "ロゴの作成", "required": True},
    {"kind": "single", "text": "ご希望のテイスト", "choices": ["シンプル", "ポップ", "高級感"], "example": "",
     "required": True},
    {"kind": "multiple", "text": "納品形式", "choices": ["PNG", "AI", "PDF"], "example": "", "required": False},
]


def listing(seller, **over):
    """An active listing (price ¥10,000, 5 days, 1 revision) with one option and a three-question hearing sheet."""
    from anshin.orders import services as orders

    data = dict(
        title="ロゴをデザインします",
        description="シンプルで覚えやすいロゴをお作りします。",
        category="design",
        price=10_000,
        delivery_days=5,
        included_revisions=1,
        options=[{"title": "特急対応", "price": 3_000, "extra_days": 0}],
        questions=HEARING,
    )
    data.update(over)
    return orders.listing_create(user=seller, **data)


def hearing_answers(a_listing, **over):
    """Valid answers to every question of `a_listing` (first choice for choice questions)."""
    answers = {}
    for q in a_listing.questions.all():
        answers[q.pk] = "ロゴを作ってほしいです" if q.kind == "text" else (
            q.choices[0] if q.kind == "single" else q.choices[:1])
    answers.update(over)
    return answers


def order(buyer, seller, state="purchased", a_listing=None, option_ids=(), **listing_over):
    """An order walked through the services up to `state`: purchased, responded, in_progress, delivered,
    revision_requested (back in_progress after one revision), redelivered, completed."""
    from anshin.orders import services as orders
    from anshin.orders.models import Order

    a_listing = a_listing or listing(seller, **listing_over)
    o = orders.order_purchase(listing_id=a_listing.pk, user=buyer, option_ids=option_ids,
                              answers=hearing_answers(a_listing))
    steps = {
        "responded": lambda: orders.order_seller_wrote(order_id=o.pk, user=seller),
        "in_progress": lambda: orders.order_accept(order_id=o.pk, user=seller),
        "delivered": lambda: orders.order_deliver(order_id=o.pk, user=seller, body="納品いたします。"),
        "revision_requested": lambda: orders.order_request_revision(order_id=o.pk, user=buyer,
                                                                    reason="色を変えてください"),
        "redelivered": lambda: orders.order_deliver(order_id=o.pk, user=seller, body="修正版です。"),
        "completed": lambda: orders.order_approve(order_id=o.pk, user=buyer),
    }
    paths = {
        "purchased": [],
        "responded": ["responded"],
        "in_progress": ["in_progress"],
        "delivered": ["in_progress", "delivered"],
        "revision_requested": ["in_progress", "delivered", "revision_requested"],
        "redelivered": ["in_progress", "delivered", "revision_requested", "redelivered"],
        "completed": ["in_progress", "delivered", "completed"],
    }
    for step in paths[state]:
        steps[step]()
    return Order.objects.select_related("buyer", "seller", "thread", "listing").get(pk=o.pk)

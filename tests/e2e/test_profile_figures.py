"""Profile figures in the browser (issue 5, "Done when"): a worker looks at a client's profile — its figures,
each with its definition on hover, and the two server-drawn charts — then the client chooses among the
applicants of a job with each worker's figures next to the name.

The record (deals, messages, reviews) is written before the browsers start; reviews are rows with their
window revealed, as the review services would leave them. Screenshots go to docs/screenshots/ when
ANSHIN_SCREENSHOTS=1 (the 1200x900 viewport only)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from anshin.accounts.figures import DEFINITIONS
from anshin.core import clock
from tests import factories
from tests.e2e.helpers import PASSWORD, log_in, screenshotter

shot = screenshotter("")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

H = timedelta(hours=1)
D = timedelta(days=1)


def talk(answerer, writer, *, after, days_ago):
    """`writer` opens a thread; `answerer` replies `after` later (None: never)."""
    from anshin.messaging.models import Message
    from anshin.messaging.services import thread_create

    at = clock.now() - days_ago * D
    thread = thread_create(kind="scout", subject="ご相談", members=[answerer, writer])
    Message.objects.create(thread=thread, sender=writer, body="はじめまして。ご相談です。", created_at=at)
    if after is not None:
        Message.objects.create(thread=thread, sender=answerer, body="ご連絡ありがとうございます。",
                               created_at=at + after)


def reviewed(contract, *, author, subject, role, axes, comment, reply="", days_ago=1):
    """A review of a completed contract, revealed (both sides wrote or the window closed)."""
    from anshin.reviews.models import Review, ReviewWindow

    at = clock.now() - days_ago * D
    window, _ = ReviewWindow.objects.update_or_create(
        contract=contract,
        defaults=dict(client=contract.client, worker=contract.worker, opened_at=at, closes_at=at + 14 * D,
                      revealed_at=at, due_at=None, remind_at=None),
    )
    Review.objects.create(window=window, author=author, subject=subject, author_role=role,
                          **dict(zip(("skill", "quality", "schedule", "communication", "partnership"), axes,
                                     strict=True)),
                          comment=comment, submitted_at=at, reply=reply, replied_at=at if reply else None)


def accepted_after(client, worker, inspection: timedelta):
    """A contract accepted `inspection` after its (only) delivery."""
    from anshin.contracts.models import Delivery
    from anshin.core import audit

    contract = factories.contract(client, worker, "accepted")
    accepted_at = next(e.created_at for e in audit.timeline(contract) if e.action == "accept")
    Delivery.objects.filter(contract=contract).update(created_at=accepted_at - inspection)
    return contract


def test_client_profile_figures_and_applicants_with_worker_figures(new_page):
    from anshin.accounts.models import User

    def person(email, name):
        return User.objects.create_user(email=email, password=PASSWORD, display_name=name)

    client_user = person("sakura@example.com", "株式会社さくらメディア")
    hanako = person("hanako@example.com", "山田花子")
    ken = person("ken@example.com", "佐藤健")
    newbie = person("newbie@example.com", "鈴木はじめ")
    past = person("past@example.com", "田中一郎")

    # The client's record: three contracts accepted 1 day, 2 days and 5 days after delivery (median 2 days),
    # one funded and under way, one accepted offer cancelled unfunded → 仮払い率 4 of 5 = 80%.
    done = [accepted_after(client_user, w, d) for w, d in ((past, 1 * D), (hanako, 2 * D), (past, 5 * D))]
    factories.contract(client_user, past, "funded")
    unfunded = factories.contract(client_user, past, "awaiting_funding")
    from anshin.contracts.services import contract_simple_action

    contract_simple_action(contract_id=unfunded.pk, user=client_user, action="cancel")
    reviewed(done[0], author=past, subject=client_user, role="worker", axes=(5, 5, 5, 5, 5),
             comment="仮払いが早く、検収も翌日でした。", reply="ありがとうございました。", days_ago=3)
    reviewed(done[1], author=hanako, subject=client_user, role="worker", axes=(4, 4, 5, 4, 4),
             comment="指示が明確で進めやすかったです。", days_ago=2)
    reviewed(done[2], author=past, subject=client_user, role="worker", axes=(3, 4, 3, 3, 4),
             comment="検収まで少し時間がかかりました。", days_ago=1)
    # the client answers: 1h, 5h, 30h (late), never → 2 of 4 within 24h = 50%; median reply (5h + 1h)/2 … 5h
    talk(client_user, past, after=1 * H, days_ago=20)
    talk(client_user, ken, after=5 * H, days_ago=15)
    talk(client_user, newbie, after=30 * H, days_ago=10)
    talk(client_user, hanako, after=None, days_ago=5)

    # The workers' records: 山田花子 answers fast and has a ★4.6 review; 佐藤健 is slower; 鈴木はじめ is new.
    talk(hanako, client_user, after=H / 2, days_ago=8)
    talk(ken, client_user, after=20 * H, days_ago=8)
    reviewed(factories.contract(past, hanako, "accepted"), author=past, subject=hanako, role="client",
             axes=(5, 5, 5, 4, 4), comment="丁寧で早い対応でした。")
    job = factories.job(client_user, title="採用サイトのインタビュー記事（3本）")
    for worker in (hanako, ken, newbie):
        factories.application(client_user, worker, job=job)

    # A worker looks at the client before applying.
    page = new_page()
    log_in(page, ken.email)
    page.goto(f"/jobs/{job.pk}/")
    card = page.locator(".client-card")
    expect(card.get_by_test_id("brief-funding-rate")).to_have_text("80%")
    expect(card.get_by_test_id("brief-inspection-time")).to_have_text("2日")
    card.get_by_role("link", name="株式会社さくらメディア").click()
    figures = page.get_by_test_id("figures")
    def figure(name, value, detail=""):
        cell = figures.get_by_test_id(f"figure-{name}")
        expect(cell).to_have_text(value + detail)  # e.g. 「50%」 + 「4件中2件」 in smaller type
        if detail:
            expect(cell.locator("small")).to_have_text(detail)

    figure("response-rate", "50%", "4件中2件")
    figure("reply-time", "5時間", "3回")
    figure("completed", "3件", "受注0・発注3")
    figure("rating", "★4.2", "3件")
    figure("funding-rate", "80%", "5件中4件")
    figure("inspection-time", "2日", "3件")
    expect(figures.get_by_test_id("figure-deemed")).to_have_text("0件")
    expect(figures.get_by_test_id("figure-terminations")).to_have_text("0件")
    expect(figures.get_by_test_id("figure-disputes")).to_have_text("0件")
    # each figure carries its definition as a tooltip
    info = figures.locator('.figure-info[data-definition="funding_rate"]')
    expect(info).to_have_attribute("title", DEFINITIONS["funding_rate"])
    info.hover()
    # the charts: inline SVG images with text alternatives, one bar per star and per reply-time bucket
    rating_chart = figures.get_by_role("img", name="株式会社さくらメディアさんの評価の分布")
    expect(rating_chart).to_be_visible()
    expect(rating_chart.locator("g.bar")).to_have_count(5)
    replies_chart = figures.get_by_role("img", name="株式会社さくらメディアさんの返信時間の分布")
    expect(replies_chart).to_be_visible()
    expect(replies_chart.locator("rect title")).to_have_text(
        ["1時間未満: 0回", "1〜3時間: 1回", "3〜12時間: 1回", "12〜24時間: 0回", "1〜3日: 1回", "3日以上: 0回"])
    reviews = page.get_by_test_id("recent-reviews")
    expect(reviews.locator("li.review")).to_have_count(3)
    expect(reviews.locator("li.review").first).to_contain_text("検収まで少し時間がかかりました。")
    expect(reviews.get_by_test_id("review-reply")).to_contain_text("ありがとうございました。")
    figures.evaluate("element => element.scrollIntoView()")
    shot(page, "profile-client-figures")

    # The client chooses among the applicants, each with the worker's figures next to the name.
    client = new_page()
    log_in(client, client_user.email)
    client.goto(f"/jobs/{job.pk}/applicants/")
    rows = client.locator("article.applicant")
    expect(rows).to_have_count(3)

    def row(name):
        return rows.filter(has=client.get_by_role("link", name=name, exact=True))

    expect(row("山田花子").get_by_test_id("brief-response-rate")).to_have_text("100%")
    expect(row("山田花子").get_by_test_id("brief-reply-time")).to_have_text("30分")
    expect(row("山田花子").get_by_test_id("brief-rating")).to_have_text("★4.6（1件）")
    expect(row("山田花子").get_by_test_id("brief-completed")).to_have_text("2件")
    expect(row("佐藤健").get_by_test_id("brief-response-rate")).to_have_text("100%")
    expect(row("佐藤健").get_by_test_id("brief-reply-time")).to_have_text("20時間")
    expect(row("佐藤健").get_by_test_id("brief-rating")).to_have_text("評価なし")
    expect(row("鈴木はじめ").get_by_test_id("brief-response-rate")).to_have_text("—")
    expect(row("鈴木はじめ").get_by_test_id("brief-reply-time")).to_have_text("—")
    expect(row("鈴木はじめ").get_by_test_id("brief-completed")).to_have_text("0件")
    expect(row("山田花子").locator('.figure-info[data-definition="response_rate"]')).to_have_attribute(
        "title", DEFINITIONS["response_rate"])
    shot(client, "applicants-worker-figures")

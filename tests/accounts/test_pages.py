"""The figures on the pages: the profile (figures, charts, recent reviews, a definition for each figure),
next to each applicant in the client's list, next to the client on the job page and in the job list, and in
the API. Each page costs a fixed number of queries whatever the number of people and messages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.accounts.figures import DEFINITIONS
from anshin.core import clock
from anshin.messaging.models import Message
from tests import factories
from tests.accounts.test_figures import review
from tests.web.helpers import login, text

H = timedelta(hours=1)


def inner(page: str, name: str) -> str:
    """The text inside the element with data-testid=name (tags stripped, whitespace collapsed)."""
    import re

    start = page.index(f'data-testid="{name}"')
    start = page.index(">", start) + 1
    depth, i = 1, start
    tag = re.compile(r"<(/?)([a-zA-Z0-9]+)[^>]*?(/?)>")
    while depth:
        m = tag.search(page, i)
        if m.group(1):
            depth -= 1
        elif not m.group(3) and m.group(2).lower() not in ("br", "input", "img", "rect", "line"):
            depth += 1
        i = m.end()
    inner = page[start:m.start()]
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def talk(a, b, *, reply_after=None, at=None):
    """A thread where `b` writes first; `a` answers `reply_after` later (or never)."""
    from anshin.messaging.services import thread_create

    at = at or clock.now() - timedelta(days=3)
    t = thread_create(kind="scout", subject="やりとり", members=[a, b])
    Message.objects.create(thread=t, sender=b, body="はじめまして", created_at=at)
    if reply_after is not None:
        Message.objects.create(thread=t, sender=a, body="よろしくお願いします", created_at=at + reply_after)
    return t


def test_profile_shows_the_figures_charts_definitions_and_reviews(worker, client_user, make_user):
    talk(worker, client_user, reply_after=2 * H)
    talk(worker, make_user("b"), reply_after=30 * H)
    review(worker, client_user, (5, 5, 5, 4, 4), comment="丁寧に対応していただきました", reply="ありがとうございました")
    page = text(login(client_user).get(f"/users/{worker.pk}/"))
    assert inner(page, "figure-response-rate") == "50% 2件中1件"
    assert inner(page, "figure-reply-time") == "16時間 2回"  # (2h + 30h) / 2
    assert inner(page, "figure-completed") == "1件 受注1・発注0"
    assert inner(page, "figure-rating") == "★4.6 1件"
    assert 'data-testid="client-figures"' not in page  # never a client
    # the charts are inline SVG: no script, nothing from elsewhere
    assert page.count("<svg") == 2
    assert 'data-testid="chart-rating"' in page and 'data-testid="chart-replies"' in page
    assert "<title>★5: 1件</title>" in page and "<title>1〜3時間: 1回</title>" in page
    assert "<title>1〜3日: 1回</title>" in page
    # each figure explains itself: a tooltip and the same words for screen readers
    for key in ("response_rate", "reply_time", "completed", "rating"):
        assert f'title="{DEFINITIONS[key]}"' in page
        assert f'<span class="visually-hidden">{DEFINITIONS[key]}</span>' in page
    reviews = inner(page, "recent-reviews")
    assert "丁寧に対応していただきました" in reviews and "ありがとうございました" in reviews
    assert client_user.name in reviews


def test_profile_without_any_record_shows_dashes(worker, client_user):
    page = text(login(client_user).get(f"/users/{worker.pk}/"))
    assert inner(page, "figure-response-rate") == "— データなし"
    assert inner(page, "figure-reply-time") == "—"
    assert inner(page, "figure-rating") == "— 評価なし"
    assert "公開された評価はまだありません。" in page
    assert page.count("<svg") == 2  # empty charts still drawn (every bar 0)


def test_a_client_profile_shows_the_client_figures(client_user, worker):
    factories.contract(client_user, worker, "funded")
    factories.contract(client_user, worker, "awaiting_funding")  # undecided: not in the rate
    page = text(login(worker).get(f"/users/{client_user.pk}/"))
    assert inner(page, "figure-funding-rate") == "100% 1件中1件"
    assert inner(page, "figure-inspection-time") == "—"
    assert inner(page, "figure-deemed") == "0件"
    assert inner(page, "figure-terminations") == "0件"
    assert inner(page, "figure-disputes") == "0件"
    for key in ("funding_rate", "inspection_time", "deemed", "terminations", "disputes"):
        assert f'title="{DEFINITIONS[key]}"' in page


def test_user_text_in_the_charts_and_reviews_is_escaped(make_user, client_user):
    person = make_user("evil", display_name='<script>alert("x")</script>')
    review(person, client_user, (3, 3, 3, 3, 3), comment="<img src=x onerror=alert(1)>")
    page = text(login(client_user).get(f"/users/{person.pk}/"))
    assert "<script>alert" not in page and "<img src=x" not in page
    svg = page[page.index('data-testid="chart-rating"'):]
    svg = svg[:svg.index("</svg>")]
    assert 'aria-label="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;さんの評価の分布"' in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_hidden_reviews_do_not_count_or_show(worker, client_user):
    review(worker, client_user, (1, 1, 1, 1, 1), revealed=False, comment="まだ非公開の評価")
    page = text(login(worker).get(f"/users/{worker.pk}/"))
    assert "まだ非公開の評価" not in page
    assert inner(page, "figure-rating") == "— 評価なし"


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_profile_costs_a_fixed_number_of_queries(worker, client_user, make_user,
                                                    django_assert_max_num_queries):
    browser = login(client_user)
    browser.get(f"/users/{worker.pk}/")  # presence written on the first request
    talk(worker, client_user, reply_after=H)
    review(worker, client_user, (4, 4, 4, 4, 4))
    few = _count(browser, f"/users/{worker.pk}/")
    for n in range(5):
        talk(worker, make_user(f"x{n}"), reply_after=n * H)
        review(worker, client_user, (5, 4, 4, 4, 4), comment=f"コメント{n}", reply="返信")
    many = _count(browser, f"/users/{worker.pk}/")
    assert many == few
    with django_assert_max_num_queries(30):
        browser.get(f"/users/{worker.pk}/")


@pytest.fixture
def applicants(client_user, make_user):
    """The client's job with `n` applicants; applicant k answered the client's scout after k hours and has a
    review of ★4 (k even) — so each row has its own numbers."""
    job = factories.job(client_user, title="採用サイトの記事作成")
    made = []

    def grow(n):
        people = []
        for _ in range(n):
            k = len(made)
            made.append(k)
            person = make_user(f"applicant{k}")
            talk(person, client_user, reply_after=(k + 1) * H)
            if k % 2 == 0:
                review(person, client_user, (4, 4, 4, 4, 4))
            factories.application(client_user, person, job=job)
            people.append(person)
        return job, people

    return grow


def test_the_applicant_list_shows_each_workers_figures_in_a_fixed_number_of_queries(
        client_user, applicants, django_assert_max_num_queries):
    browser = login(client_user)
    job, people = applicants(2)
    browser.get(f"/jobs/{job.pk}/applicants/")
    few = _count(browser, f"/jobs/{job.pk}/applicants/")
    job, more = applicants(5)
    cold = _count(browser, f"/jobs/{job.pk}/applicants/")  # the new applicants' figures computed and stored
    many = _count(browser, f"/jobs/{job.pk}/applicants/")  # then read from their snapshots
    assert many == few  # 7 applicants cost what 2 cost
    assert cold <= many + 12  # computing is a fixed number of queries too, whatever the number of people
    with django_assert_max_num_queries(35):
        response = browser.get(f"/jobs/{job.pk}/applicants/")
    page = text(response)
    assert "{#" not in page and "{%" not in page  # no template comment leaks into the page
    for k, person in enumerate(people + more):
        row = page[page.index(f'href="/users/{person.pk}/"'):]
        row = row[:row.index("</article>")]
        assert inner(row, "brief-response-rate") == "100%"
        assert inner(row, "brief-reply-time") == f"{k + 1}時間"
        assert inner(row, "brief-rating") == ("★4.0（1件）" if k % 2 == 0 else "評価なし")
        assert inner(row, "brief-completed") == ("1件" if k % 2 == 0 else "0件")
        assert 'data-testid="brief-funding-rate"' not in row  # workers: no client figures on this list


def test_the_job_page_and_list_show_the_clients_figures(client_user, worker, stranger):
    job = factories.job(client_user, title="会社案内の翻訳")
    factories.contract(client_user, worker, "funded")
    c = factories.contract(client_user, worker, "awaiting_funding")
    from anshin.contracts.services import contract_simple_action

    contract_simple_action(contract_id=c.pk, user=client_user, action="cancel")  # 1 of 2 funded
    page = text(login(stranger).get(f"/jobs/{job.pk}/"))
    card = page[page.index('class="card client-card"'):]
    assert inner(card, "brief-funding-rate") == "50%"
    assert inner(card, "brief-disputes") == "0件"
    assert f'title="{DEFINITIONS["funding_rate"]}"' in card
    listing = text(login(stranger).get("/"))
    row = listing[listing.index("会社案内の翻訳"):]
    assert inner(row, "brief-funding-rate") == "50%"


def test_the_profile_api_has_the_figures_and_public_reviews(worker, client_user, api_as):
    talk(worker, client_user, reply_after=3 * H)
    review(worker, client_user, (5, 5, 5, 5, 4), comment="公開された評価", reply="感謝します")
    review(worker, client_user, (1, 1, 1, 1, 1), revealed=False, comment="非公開の評価")
    status, body = api_as(client_user).get(f"/api/users/{worker.pk}")
    assert status == 200, body
    figures = body["figures"]
    assert figures["response_rate"] == 100 and figures["response_count"] == 1
    assert figures["reply_median_seconds"] == 3 * 3600
    assert figures["reply_histogram"][2] == {"label": "3〜12時間", "count": 1}
    assert (figures["rating_average"], figures["rating_count"]) == (4.8, 1)
    assert figures["rating_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert figures["completed"] == 2 and figures["client"] is None
    assert [(r["comment"], r["reply"], r["stars"]) for r in body["recent_reviews"]] == [
        ("公開された評価", "感謝します", 4.8)]
    assert "非公開の評価" not in str(body)
    status, body = api_as(worker).get(f"/api/users/{client_user.pk}")
    assert body["figures"]["is_client"] is True
    assert body["figures"]["client"]["funding_rate"] == 100

"""Jobs and applications pages, as a user sees them: Japanese text, search, party-only access (404),
bounded query counts, bad input refused with a Japanese message, CSRF and escaping."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.jobs import services
from anshin.jobs.models import Application, Job, Scout, TestTask
from anshin.messaging.models import Message
from tests import factories
from tests.web.helpers import login

pytestmark = pytest.mark.django_db


def today():
    return clock.today()


def html(response) -> str:
    return response.content.decode()


def titles_in_order(page: str, titles: list[str]) -> list[str]:
    found = [(page.find(t), t) for t in titles if t in page]
    return [t for _, t in sorted(found)]


# --- job list (home) --------------------------------------------------------------------------------------


def test_home_lists_open_jobs_in_japanese_logged_out(client, client_user, worker):
    job = factories.job(client_user)
    factories.application(client_user, worker, job=job)
    page = html(client.get(reverse("home")))
    assert "<title>仕事を探す | Anshin（安心）</title>" in page
    assert "記事に写真を挿入する業務" in page
    assert "ライティング" in page  # category label
    assert "¥30,000" in page  # budget_label
    assert "応募期限" in page and f"{job.application_deadline.month}月{job.application_deadline.day}日" in page
    assert "1人" in page  # applicants
    assert "株式会社サンプル" in page  # client name
    assert reverse("jobs:detail", args=[job.pk]) in page
    assert "1</strong>件の仕事" in page


def test_search_by_japanese_substring_inside_title(client, client_user):
    factories.job(client_user, title="記事に写真を挿入する業務", description="WordPressの作業です。")
    factories.job(
        client_user, title="英語の契約書を日本語に翻訳", description="法律文書の翻訳です。", category="translation"
    )
    page = html(client.get(reverse("home"), {"q": "写真"}))
    assert "記事に写真を挿入する業務" in page
    assert "英語の契約書を日本語に翻訳" not in page
    page = html(client.get(reverse("home"), {"q": "翻訳"}))
    assert "英語の契約書を日本語に翻訳" in page and "記事に写真を挿入する業務" not in page
    page = html(client.get(reverse("home"), {"q": "該当なしの語"}))
    assert "条件に合う仕事が見つかりませんでした" in page


def test_filters_category_and_budget(client, client_user):
    factories.job(client_user, title="ロゴのデザイン", category="design", budget_max=50_000)
    factories.job(client_user, title="データ入力の作業", category="data", budget_max=5_000)
    factories.job(client_user, title="アプリ開発の相談", category="development", budget_min=300_000, budget_max=800_000)
    page = html(client.get(reverse("home"), {"category": "design"}))
    assert "ロゴのデザイン" in page and "データ入力の作業" not in page and "アプリ開発の相談" not in page
    page = html(client.get(reverse("home"), {"budget_min": "40000"}))
    assert "ロゴのデザイン" in page and "アプリ開発の相談" in page and "データ入力の作業" not in page
    page = html(client.get(reverse("home"), {"budget_max": "10000"}))
    assert "データ入力の作業" in page and "ロゴのデザイン" not in page and "アプリ開発の相談" not in page
    assert "¥300,000 〜 ¥800,000" in html(client.get(reverse("home")))


def test_invalid_filter_is_reported_not_a_500(client, client_user):
    factories.job(client_user)
    response = client.get(reverse("home"), {"budget_min": "たくさん", "category": "nope"})
    assert response.status_code == 200
    page = html(response)
    assert "整数を入力してください" in page
    assert "記事に写真を挿入する業務" in page  # the bad filter is ignored, the list still shows


def test_sort_new_and_deadline(client, client_user):
    factories.job(
        client_user, title="締切が遠い仕事", application_deadline=today() + timedelta(days=30), delivery_date=None
    )
    factories.job(
        client_user, title="締切が近い仕事", application_deadline=today() + timedelta(days=2), delivery_date=None
    )
    names = ["締切が遠い仕事", "締切が近い仕事"]
    assert titles_in_order(html(client.get(reverse("home"), {"sort": "new"})), names) == [
        "締切が近い仕事",
        "締切が遠い仕事",
    ]
    assert titles_in_order(html(client.get(reverse("home"), {"sort": "deadline"})), names) == [
        "締切が近い仕事",
        "締切が遠い仕事",
    ]
    factories.job(
        client_user, title="締切が中間の新着", application_deadline=today() + timedelta(days=10), delivery_date=None
    )
    names.append("締切が中間の新着")
    assert titles_in_order(html(client.get(reverse("home"), {"sort": "new"})), names)[0] == "締切が中間の新着"
    assert titles_in_order(html(client.get(reverse("home"), {"sort": "deadline"})), names) == [
        "締切が近い仕事",
        "締切が中間の新着",
        "締切が遠い仕事",
    ]


def test_closed_jobs_leave_the_list_but_stay_visible(client, client_user):
    job = factories.job(client_user, title="終了した募集")
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    assert "終了した募集" not in html(client.get(reverse("home")))
    page = html(client.get(reverse("jobs:detail", args=[job.pk])))
    assert "終了した募集" in page and "募集終了" in page and "この仕事の募集は終了しています" in page


def test_pagination_20_per_page(client, client_user):
    for i in range(23):
        factories.job(client_user, title=f"案件番号{i:02d}")
    first = html(client.get(reverse("home")))
    assert first.count('class="card job-row"') == 20
    assert "1 / 2 ページ" in first and "page=2" in first
    second = html(client.get(reverse("home"), {"page": 2}))
    assert second.count('class="card job-row"') == 3
    assert "案件番号00" in second  # oldest on the last page (新着順)


def test_htmx_search_returns_only_the_results(client, client_user):
    factories.job(client_user)
    response = client.get(reverse("home"), {"q": "写真"}, HTTP_HX_REQUEST="true")
    page = html(response)
    assert response.status_code == 200
    assert "<html" not in page and 'id="results"' in page and "記事に写真を挿入する業務" in page


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _many_jobs(make_user, n):
    owners = [make_user(f"owner{i}") for i in range(3)]
    for i in range(n):
        factories.job(owners[i % 3], title=f"大量の案件{i}")
    return owners


def test_job_list_query_count_does_not_grow(client, make_user, worker):
    owners = _many_jobs(make_user, 5)
    client.force_login(worker)
    client.get(reverse("home"))  # presence write happens once a minute; warm it
    few = _count_queries(client, reverse("home"))
    for i in range(45):
        factories.job(owners[i % 3], title=f"追加の案件{i}")
    factories.application(owners[0], worker, job=Job.objects.filter(client=owners[0]).first())
    cold = _count_queries(client, reverse("home"))  # the new clients' figures computed and stored once
    many = _count_queries(client, reverse("home"))
    assert cold <= many + 12, "computing figures is a fixed number of queries whatever the number of people"
    assert Job.objects.count() == 50
    assert few == many, f"5 jobs: {few} queries, 50 jobs: {many} queries"


# --- job detail ------------------------------------------------------------------------------------------


def test_job_detail_for_anonymous_asks_to_log_in(client, client_user):
    job = factories.job(client_user, skills="WordPress, 画像編集")
    page = html(client.get(reverse("jobs:detail", args=[job.pk])))
    assert "仕事の詳細" in page and "WordPressの記事10本に写真を挿入してください。" in page
    assert "WordPress" in page and "画像編集" in page and "希望納期" in page and "募集人数" in page
    assert "ログインして応募する" in page
    assert 'name="amount"' not in page


def test_worker_applies_from_the_detail_page(client, client_user, worker):
    job = factories.job(client_user)
    client.force_login(worker)
    page = html(client.get(reverse("jobs:detail", args=[job.pk])))
    assert "この仕事に応募する" in page and "提案金額" in page and "完了予定日" in page
    response = client.post(
        reverse("jobs:apply", args=[job.pk]),
        {
            "message": "写真挿入の経験があります。",
            "amount": "28000",
            "estimated_date": (today() + timedelta(days=10)).isoformat(),
        },
    )
    application = Application.objects.get(job=job, worker=worker)
    assert response.status_code == 302 and response.url == reverse("jobs:application", args=[application.pk])
    assert application.amount == 28_000 and application.state == "applied"
    page = html(client.get(reverse("jobs:detail", args=[job.pk])))
    assert "応募済み" in page and reverse("jobs:application", args=[application.pk]) in page
    assert reverse("messaging:thread", args=[application.thread.pk]) in page
    assert 'name="amount"' not in page


def test_client_sees_edit_close_and_applicants_then_closes_and_reopens(client, client_user, worker):
    job = factories.job(client_user)
    factories.application(client_user, worker, job=job)
    client.force_login(client_user)
    page = html(client.get(reverse("jobs:detail", args=[job.pk])))
    assert "募集内容を編集する" in page and "応募者一覧（1人）" in page and "募集を終了する" in page
    assert "募集を再開する" not in page
    response = client.post(reverse("jobs:transition", args=[job.pk, "close"]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == "closed"
    page = html(client.get(response.url))
    assert "募集を終了しました。" in page and "募集を再開する" in page and "募集を終了する" not in page
    client.post(reverse("jobs:transition", args=[job.pk, "reopen"]))
    job.refresh_from_db()
    assert job.state == "open"


def test_wrong_transition_shows_a_japanese_message(client, client_user):
    job = factories.job(client_user)
    client.force_login(client_user)
    response = client.post(reverse("jobs:transition", args=[job.pk, "reopen"]), follow=True)
    assert "現在の状態（募集中）ではこの操作はできません。" in html(response)
    job.refresh_from_db()
    assert job.state == "open"


def test_missing_job_is_404(client, worker):
    client.force_login(worker)
    assert client.get(reverse("jobs:detail", args=[999999])).status_code == 404


# --- post and edit -----------------------------------------------------------------------------------------


def job_post_data(**over):
    data = {
        "title": "商品写真の切り抜き",
        "category": "design",
        "description": "商品写真50枚の背景を切り抜いてください。",
        "skills": "Photoshop",
        "budget_min": "",
        "budget_max": "20000",
        "application_deadline": (today() + timedelta(days=7)).isoformat(),
        "delivery_date": (today() + timedelta(days=20)).isoformat(),
        "hires": "1",
    }
    data.update(over)
    return data


def test_post_a_job(client, client_user):
    client.force_login(client_user)
    page = html(client.get(reverse("jobs:create")))
    for label in (
        "仕事を依頼する",
        "タイトル",
        "カテゴリ",
        "仕事の詳細",
        "予算（円・税込）",
        "応募期限",
        "希望納期",
        "募集人数",
    ):
        assert label in page
    response = client.post(reverse("jobs:create"), job_post_data())
    job = Job.objects.get(title="商品写真の切り抜き")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    assert job.client == client_user and job.budget_max == 20_000 and job.budget_min is None
    assert "仕事を掲載しました。" in html(client.get(response.url))


def test_post_requires_login(client):
    response = client.get(reverse("jobs:create"))
    assert response.status_code == 302 and reverse("account_login") in response.url


@pytest.mark.parametrize(
    "over, message",
    [
        ({"title": ""}, "このフィールドは必須です。"),
        ({"category": ""}, "このフィールドは必須です。"),
        ({"budget_max": ""}, "このフィールドは必須です。"),
        ({"budget_max": "-5000"}, "予算は¥1,000以上¥10,000,000以下の整数で入力してください。"),
        ({"budget_max": "999999999999"}, "予算は¥1,000以上¥10,000,000以下の整数で入力してください。"),
        ({"budget_max": "abc"}, "整数を入力してください。"),
        ({"budget_max": "1500.5"}, "整数を入力してください。"),
        ({"budget_min": "50000", "budget_max": "20000"}, "予算の下限は上限以下にしてください。"),
        ({"application_deadline": "2000-01-01"}, "応募期限には今日以降の日付を指定してください。"),
        ({"application_deadline": "明日"}, "日付を正しく入力してください。"),
        ({"hires": "0"}, "募集人数は1〜100人で入力してください。"),
    ],
)
def test_bad_job_input_is_refused_in_japanese(client, client_user, over, message):
    client.force_login(client_user)
    response = client.post(reverse("jobs:create"), job_post_data(**over))
    assert response.status_code == 400
    assert message in html(response)
    assert not Job.objects.exists()


def test_edit_own_job(client, client_user):
    job = factories.job(client_user)
    client.force_login(client_user)
    page = html(client.get(reverse("jobs:edit", args=[job.pk])))
    assert "募集内容を編集する" in page and 'value="記事に写真を挿入する業務"' in page
    response = client.post(reverse("jobs:edit", args=[job.pk]), job_post_data(title="記事に写真と動画を挿入する業務"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.title == "記事に写真と動画を挿入する業務" and job.budget_max == 20_000
    response = client.post(reverse("jobs:edit", args=[job.pk]), job_post_data(budget_max="-1"))
    assert response.status_code == 400 and "予算は¥1,000以上" in html(response)
    job.refresh_from_db()
    assert job.budget_max == 20_000


# --- applying: bad input -----------------------------------------------------------------------------------


def apply_data(**over):
    data = {
        "message": "よろしくお願いします。",
        "amount": "25000",
        "estimated_date": (today() + timedelta(days=10)).isoformat(),
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    "over, message",
    [
        ({"message": ""}, "このフィールドは必須です。"),
        ({"message": "   "}, "このフィールドは必須です。"),
        ({"amount": ""}, "このフィールドは必須です。"),
        ({"amount": "-100"}, "提案金額は¥1,000以上¥10,000,000以下の整数で入力してください。"),
        ({"amount": "100000000000"}, "提案金額は¥1,000以上¥10,000,000以下の整数で入力してください。"),
        ({"amount": "三万円"}, "整数を入力してください。"),
        ({"amount": "30000.5"}, "整数を入力してください。"),
        ({"estimated_date": "2001-02-03"}, "完了予定日には今日以降の日付を指定してください。"),
        ({"estimated_date": ""}, "このフィールドは必須です。"),
    ],
)
def test_bad_application_input_is_refused_in_japanese(client, client_user, worker, over, message):
    job = factories.job(client_user)
    client.force_login(worker)
    response = client.post(reverse("jobs:apply", args=[job.pk]), apply_data(**over))
    assert response.status_code == 400
    assert message in html(response)
    assert not Application.objects.exists()


def test_duplicate_application_is_refused(client, client_user, worker):
    job = factories.job(client_user)
    factories.application(client_user, worker, job=job)
    client.force_login(worker)
    response = client.post(reverse("jobs:apply", args=[job.pk]), apply_data())
    assert response.status_code == 400
    assert "この仕事にはすでに応募しています。" in html(response)
    assert Application.objects.count() == 1


def test_cannot_apply_to_own_or_closed_job(client, client_user, worker):
    job = factories.job(client_user)
    client.force_login(client_user)
    response = client.post(reverse("jobs:apply", args=[job.pk]), apply_data())
    assert response.status_code == 400 and "自分の仕事には応募できません。" in html(response)
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    client.force_login(worker)
    response = client.post(reverse("jobs:apply", args=[job.pk]), apply_data())
    assert response.status_code == 400 and "この仕事の募集は終了しています。" in html(response)
    assert not Application.objects.exists()


# --- applicant list ----------------------------------------------------------------------------------------


def test_applicant_list_shows_each_application_with_buttons(client, client_user, worker, make_user):
    job = factories.job(client_user)
    app = factories.application(
        client_user,
        worker,
        job=job,
        amount=27_500,
        message="過去に100本以上の記事で写真挿入を担当しました。丁寧に対応します。",
    )
    other = make_user("other", display_name="佐藤次郎", hide_last_access=True)
    factories.application(client_user, other, job=job)
    client.force_login(client_user)
    page = html(client.get(reverse("jobs:applicants", args=[job.pk])))
    assert "応募者一覧" in page
    assert "山田花子" in page and reverse("accounts:profile", args=[worker.pk]) in page
    assert "¥27,500" in page and "過去に100本以上の記事で写真挿入を担当しました。" in page
    assert "応募中" in page and "最終アクセス" in page and "非公開" in page
    assert "候補に入れる" in page and "見送る" in page and "他の方に決定しました" in page
    assert "契約をオファーする" in page and f"/applications/{app.pk}/offer/" in page
    assert reverse("messaging:thread", args=[app.thread.pk]) in page


def test_client_shortlists_unshortlists_and_declines(client, client_user, worker):
    app = factories.application(client_user, worker)
    client.force_login(client_user)
    applicants = reverse("jobs:applicants", args=[app.job_id])
    response = client.post(reverse("jobs:application_action", args=[app.pk, "shortlist"]), {"next": applicants})
    assert response.status_code == 302 and response.url == applicants
    app.refresh_from_db()
    assert app.state == "shortlisted"
    page = html(client.get(applicants))
    assert "候補に入れました。" in page and "候補から外す" in page
    client.post(reverse("jobs:application_action", args=[app.pk, "unshortlist"]))
    app.refresh_from_db()
    assert app.state == "applied"
    # decline needs a reason
    response = client.post(
        reverse("jobs:application_action", args=[app.pk, "decline"]), {"next": applicants}, follow=True
    )
    assert "見送りの理由を選択してください。" in html(response)
    app.refresh_from_db()
    assert app.state == "applied"
    client.post(reverse("jobs:application_action", args=[app.pk, "decline"]), {"reason": "budget"})
    app.refresh_from_db()
    assert app.state == "declined" and app.decline_reason == "budget"
    page = html(client.get(applicants))
    assert "見送り" in page and "ご提案の金額が予算と合いませんでした" in page and "契約をオファーする" not in page


def test_unsafe_next_is_ignored(client, client_user, worker):
    app = factories.application(client_user, worker)
    client.force_login(client_user)
    response = client.post(
        reverse("jobs:application_action", args=[app.pk, "shortlist"]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("jobs:application", args=[app.pk])


def test_applicant_list_query_count_does_not_grow(client, client_user, make_user):
    job = factories.job(client_user)
    for i in range(5):
        factories.application(client_user, make_user(f"applicant{i}"), job=job)
    client.force_login(client_user)
    url = reverse("jobs:applicants", args=[job.pk])
    client.get(url)
    few = _count_queries(client, url)
    for i in range(5, 50):
        applicant = make_user(f"applicant{i}")
        app = factories.application(client_user, applicant, job=job)
        if i % 7 == 0:
            services.application_transition(application_id=app.pk, user=client_user, action="shortlist")
        if i % 5 == 0:  # some applicants have been seen recently
            from anshin.accounts.presence import presence_touch

            presence_touch(applicant)
    # the page shows 20 per page; with 50 rows the same number of queries run (once the new applicants'
    # figures are stored: computing them is a fixed number of queries too)
    cold = _count_queries(client, url)
    many = _count_queries(client, url)
    assert cold <= many + 12
    assert job.applications.count() == 50
    assert few == many, f"5 applications: {few} queries, 50 applications: {many} queries"


# --- worker's applications -----------------------------------------------------------------------------------


def test_my_applications_and_withdraw(client, client_user, worker):
    app = factories.application(client_user, worker)
    client.force_login(worker)
    page = html(client.get(reverse("jobs:my_applications")))
    assert "応募した仕事" in page and "記事に写真を挿入する業務" in page and "¥30,000" in page and "応募中" in page
    assert "応募を辞退する" in page and reverse("messaging:thread", args=[app.thread.pk]) in page
    response = client.post(
        reverse("jobs:application_action", args=[app.pk, "withdraw"]),
        {"next": reverse("jobs:my_applications")},
        follow=True,
    )
    app.refresh_from_db()
    assert app.state == "withdrawn"
    page = html(response)
    assert "応募を辞退しました。" in page and "辞退" in page and "応募を辞退する" not in page


def test_application_detail_for_both_parties(client, client_user, worker):
    app = factories.application(client_user, worker, message="写真の加工も対応できます。")
    for user, own_button in ((worker, "応募を辞退する"), (client_user, "候補に入れる")):
        client.force_login(user)
        page = html(client.get(reverse("jobs:application", args=[app.pk])))
        assert "写真の加工も対応できます。" in page and "¥30,000" in page and "完了予定日" in page
        assert reverse("messaging:thread", args=[app.thread.pk]) in page
        assert own_button in page
    assert "契約を見る" not in page


def test_application_detail_links_to_its_contract(client, client_user, worker):
    contract = factories.contract(client_user, worker)
    client.force_login(worker)
    page = html(client.get(reverse("jobs:application", args=[contract.application_id])))
    assert "契約オファー済み" in page and reverse("contracts:detail", args=[contract.pk]) in page
    page = html(client.get(reverse("jobs:my_applications")))
    assert "契約を見る" in page and reverse("contracts:detail", args=[contract.pk]) in page


# --- non-party 404 table -------------------------------------------------------------------------------------


def _party_only_urls(job, app):
    return [
        ("GET", reverse("jobs:edit", args=[job.pk]), {}),
        ("POST", reverse("jobs:edit", args=[job.pk]), job_post_data(title="乗っ取り")),
        ("GET", reverse("jobs:applicants", args=[job.pk]), {}),
        ("POST", reverse("jobs:applicants", args=[job.pk]), {}),
        ("GET", reverse("jobs:transition", args=[job.pk, "close"]), {}),
        ("POST", reverse("jobs:transition", args=[job.pk, "close"]), {}),
        ("GET", reverse("jobs:application", args=[app.pk]), {}),
        ("POST", reverse("jobs:application", args=[app.pk]), {}),
        *[
            (method, reverse("jobs:application_action", args=[app.pk, action]), {"reason": "other"})
            for action in ("shortlist", "unshortlist", "decline", "withdraw")
            for method in ("GET", "POST")
        ],
    ]


def _snapshot():
    return (
        list(Job.objects.values_list("pk", "title", "state", "budget_max").order_by("pk")),
        list(Application.objects.values_list("pk", "state", "decline_reason").order_by("pk")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("index", range(len(_party_only_urls(type("J", (), {"pk": 1}), type("A", (), {"pk": 1})))))
def test_non_party_gets_404_and_changes_nothing(client, client_user, worker, stranger, index):
    app = factories.application(client_user, worker)
    services.application_transition(application_id=app.pk, user=client_user, action="shortlist")
    method, url, data = _party_only_urls(app.job, app)[index]
    before = _snapshot()
    client.force_login(stranger)
    response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code == 404, f"{method} {url} → {response.status_code}"
    assert _snapshot() == before


def test_party_gets_405_not_404_on_get_of_an_action_url(client, client_user, worker):
    app = factories.application(client_user, worker)
    client.force_login(client_user)
    assert client.get(reverse("jobs:application_action", args=[app.pk, "shortlist"])).status_code == 405
    assert client.get(reverse("jobs:transition", args=[app.job_id, "close"])).status_code == 405


def test_unknown_ids_are_404(client, worker):
    client.force_login(worker)
    assert client.get(reverse("jobs:application", args=[424242])).status_code == 404
    assert client.post(reverse("jobs:application_action", args=[424242, "withdraw"])).status_code == 404
    assert client.post(reverse("jobs:apply", args=[424242]), apply_data()).status_code == 404


# --- CSRF and escaping ---------------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(client_user, worker):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(client_user)
    response = csrf_client.post(reverse("jobs:create"), job_post_data())
    assert response.status_code == 403
    assert not Job.objects.exists()
    job = factories.job(client_user)
    csrf_client.force_login(worker)
    assert csrf_client.post(reverse("jobs:apply", args=[job.pk]), apply_data()).status_code == 403
    assert not Application.objects.exists()


def test_script_in_title_is_escaped(client, client_user, worker):
    job = factories.job(client_user, title="<script>alert(1)</script>", description="<img src=x onerror=alert(2)>")
    factories.application(client_user, worker, job=job, message="<b>太字</b>")
    for url in (reverse("home"), reverse("jobs:detail", args=[job.pk])):
        page = html(client.get(url))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    client.force_login(client_user)
    page = html(client.get(reverse("jobs:applicants", args=[job.pk])))
    assert "&lt;b&gt;太字&lt;/b&gt;" in page and "<b>太字</b>" not in page


# --- test tasks (seed 000): the panel on the application page, both sides ------------------------------------

TOKYO_START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def task_form_data(**over):
    data = {"instructions": "添付の画像を記事に挿入してください。", "links": "https://example.com/materials",
            "duration_days": "3", "duration_hours": "0"}
    data.update(over)
    return data


def panel(page: str) -> str:
    start = page.find('id="test-task"')
    assert start != -1, "no test task panel"
    return page[start:page.find("</section>", start)]


def test_seed_000_test_task_pages_both_sides_see_the_clock_stop_and_resume(client_user, worker):
    with time_machine.travel(TOKYO_START, tick=False) as traveller:
        app = factories.application(client_user, worker)
        url = reverse("jobs:application", args=[app.pk])
        as_client, as_worker = login(client_user), login(worker)
        page = html(as_client.get(url))
        assert "テスト課題を送る" in panel(page) and "制限時間（日）" in page
        assert 'data-test-task-form="send"' not in html(as_worker.get(url))  # only the client sends

        upload = SimpleUploadedFile("素材.zip", b"PK\x03\x04", content_type="application/zip")
        response = as_client.post(reverse("jobs:test_task_send", args=[app.pk]), task_form_data(files=upload))
        assert response.status_code == 302 and response.url.endswith("#test-task")
        task = TestTask.objects.get(application=app)
        assert task.due_at == TOKYO_START + timedelta(days=3)

        for who in (as_client, as_worker):
            box = panel(html(who.get(url)))
            assert "作業中" in box and "残り 3日" in box and "添付の画像を記事に挿入してください。" in box
            assert "資料: 素材.zip" in box and "https://example.com/materials" in box
            assert "2026年4月4日 10:00" in box
        worker_box = panel(html(as_worker.get(url)))
        assert "質問して時計を止める" in worker_box and 'data-test-task-form="submit"' in worker_box
        assert 'data-test-task-form="answer"' not in worker_box

        traveller.shift(timedelta(hours=10))
        response = as_worker.post(reverse("jobs:test_task_action", args=[app.pk, "blocker"]),
                                  {"question": "資料が見つかりません"}, follow=True)
        assert "回答があるまでテストの時計は止まっています。" in html(response)
        traveller.shift(timedelta(hours=20))
        for who in (as_client, as_worker):
            box = panel(html(who.get(url)))
            assert "時計停止中（残り 2日14時間）" in box and "資料が見つかりません" in box
        client_box = panel(html(as_client.get(url)))
        assert 'data-test-task-form="answer"' in client_box and "回答して再開する" in client_box
        thread_page = html(as_worker.get(reverse("messaging:thread", args=[app.thread.pk])))
        assert "時計を止めています（時計停止中（残り 2日14時間））" in thread_page

        as_client.post(reverse("jobs:test_task_action", args=[app.pk, "answer"]), {"answer": "共有フォルダにあります"})
        task.refresh_from_db()
        assert task.due_at == TOKYO_START + timedelta(hours=30 + 62)
        for who in (as_client, as_worker):
            box = panel(html(who.get(url)))
            assert "残り 2日14時間" in box and "時計停止中" not in box and "共有フォルダにあります" in box

        traveller.shift(timedelta(hours=1))
        as_worker.post(reverse("jobs:test_task_action", args=[app.pk, "submit"]),
                       {"body": "完成しました。", "links": "https://example.com/result"})
        client_box = panel(html(as_client.get(url)))
        assert "提出済み（評価待ち）" in client_box and "完成しました。" in client_box
        assert 'data-test-task-form="evaluate"' in client_box
        as_client.post(reverse("jobs:test_task_action", args=[app.pk, "evaluate"]),
                       {"result": "pass", "comment": "丁寧な作業でした"})
        box = panel(html(as_worker.get(url)))
        assert "合格" in box and "丁寧な作業でした" in box and "<form" not in box


def test_applicant_list_shows_each_test_task_and_offers_to_send_one(client_user, worker, make_user):
    with time_machine.travel(TOKYO_START, tick=False):
        job = factories.job(client_user)
        tested = factories.application(client_user, worker, job=job)
        other = factories.application(client_user, make_user("other"), job=job)
        services.test_task_send(application_id=tested.pk, user=client_user, instructions="課題",
                                duration=timedelta(hours=30))
        page = html(login(client_user).get(reverse("jobs:applicants", args=[job.pk])))
        card = page[page.find(f'id="application-{tested.pk}"'):page.find(f'id="application-{other.pk}"')]
        if not card:
            card = page[page.find(f'id="application-{tested.pk}"'):]
        assert "テスト課題:" in card and "作業中" in card and "残り 1日6時間" in card
        assert f'{reverse("jobs:application", args=[other.pk])}#test-task' in page
        assert f'{reverse("jobs:application", args=[tested.pk])}#test-task' not in page


def test_applicant_list_settles_a_test_whose_time_ran_out(client_user, worker):
    with time_machine.travel(TOKYO_START, tick=False) as traveller:
        app = factories.application(client_user, worker)
        services.test_task_send(application_id=app.pk, user=client_user, instructions="課題",
                                duration=timedelta(hours=2))
        traveller.shift(timedelta(hours=2))
        page = html(login(client_user).get(reverse("jobs:applicants", args=[app.job_id])))
        assert "期限切れ" in page
        assert TestTask.objects.get(application=app).state == "expired"


def test_applicant_list_query_count_with_test_tasks_does_not_grow(client_user, make_user):
    with time_machine.travel(TOKYO_START, tick=False):
        job = factories.job(client_user)

        def add(i):
            app = factories.application(client_user, make_user(f"tested{i}"), job=job)
            services.test_task_send(application_id=app.pk, user=client_user, instructions="課題",
                                    duration=timedelta(days=2))
            if i % 3 == 0:
                services.test_task_report_blocker(application_id=app.pk, user=app.worker, question="質問")

        for i in range(5):
            add(i)
        browser = login(client_user)
        url = reverse("jobs:applicants", args=[job.pk])
        browser.get(url)
        few = _count_queries(browser, url)
        for i in range(5, 50):
            add(i)
        cold = _count_queries(browser, url)  # the new applicants' figures computed and stored once
        many = _count_queries(browser, url)
        assert cold <= many + 12
        assert TestTask.objects.filter(application__job=job).count() == 50
        assert few == many, f"5 applications: {few} queries, 50 applications: {many} queries"


@pytest.mark.parametrize(("over", "message"), [
    ({"duration_days": "0", "duration_hours": "0"}, "制限時間は1時間以上14日以内で指定してください。"),
    ({"duration_days": "14", "duration_hours": "1"}, "制限時間は1時間以上14日以内で指定してください。"),
    ({"duration_days": "15"}, "制限時間（日）"),
    ({"duration_days": "abc"}, "制限時間（日）"),
    ({"instructions": ""}, "課題の内容"),
    ({"links": "javascript:alert(1)"}, "資料のURLは http:// または https:// で始まる形式"),
])
def test_bad_test_task_input_is_refused_in_japanese(client_user, worker, over, message):
    app = factories.application(client_user, worker)
    messages_before = Message.objects.count()
    response = login(client_user).post(reverse("jobs:test_task_send", args=[app.pk]), task_form_data(**over))
    assert response.status_code == 400
    assert message in html(response)
    assert 'data-test-task-form="send"' in html(response)  # the form is back with the input
    assert not TestTask.objects.exists() and Message.objects.count() == messages_before


def test_bad_test_task_action_input_is_refused_and_changes_nothing(client_user, worker):
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="課題", duration=timedelta(days=1))
    before = list(TestTask.objects.values_list("state", "due_at", "remaining"))
    as_worker = login(worker)
    for word, data, text in (
        ("blocker", {"question": ""}, "このフィールドは必須です。"),
        ("submit", {"body": "提出", "links": "ftp://x"}, "提出物のURL"),
        ("answer", {"answer": "私は応募者"}, "現在の状態（作業中）ではこの操作はできません。"),
        ("evaluate", {"result": "pass"}, "現在の状態（作業中）ではこの操作はできません。"),
    ):
        response = as_worker.post(reverse("jobs:test_task_action", args=[app.pk, word]), data)
        assert response.status_code == 400, word
        assert text in html(response), word
    response = login(client_user).post(reverse("jobs:test_task_action", args=[app.pk, "evaluate"]),
                                       {"result": "maybe"})
    assert response.status_code == 400 and "評価" in html(response)
    assert list(TestTask.objects.values_list("state", "due_at", "remaining")) == before


def test_worker_cannot_send_a_test_task(client_user, worker):
    app = factories.application(client_user, worker)
    response = login(worker).post(reverse("jobs:test_task_send", args=[app.pk]), task_form_data())
    assert response.status_code == 403
    assert "テスト課題を送れるのはこの仕事の発注者だけです。" in html(response)
    assert not TestTask.objects.exists()


def test_test_task_urls_answer_405_to_a_party_and_404_to_unknown_words(client_user, worker):
    app = factories.application(client_user, worker)
    browser = login(client_user)
    assert browser.get(reverse("jobs:test_task_send", args=[app.pk])).status_code == 405
    assert browser.get(reverse("jobs:test_task_action", args=[app.pk, "answer"])).status_code == 405
    assert browser.post(reverse("jobs:test_task_action", args=[app.pk, "teleport"])).status_code == 404
    assert browser.post(reverse("jobs:test_task_action", args=[424242, "answer"]), {"answer": "x"}).status_code == 404


def test_test_task_send_needs_csrf(client_user, worker):
    app = factories.application(client_user, worker)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(client_user)
    assert csrf_client.post(reverse("jobs:test_task_send", args=[app.pk]), task_form_data()).status_code == 403
    assert not TestTask.objects.exists()


def test_test_task_text_is_escaped(client_user, worker):
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="<script>alert(1)</script>",
                            duration=timedelta(days=1))
    page = html(login(worker).get(reverse("jobs:application", args=[app.pk])))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


# --- scouting pages -------------------------------------------------------------------------------------------


def test_client_scouts_a_worker_from_the_profile_and_the_worker_answers(client_user, worker):
    job = factories.job(client_user, title="商品写真の切り抜き")
    profile = reverse("accounts:profile", args=[worker.pk])
    as_client, as_worker = login(client_user), login(worker)
    page = html(as_client.get(profile))
    assert "スカウトする" in page and "商品写真の切り抜き" in page and 'data-testid="scout-form"' in page
    assert 'data-testid="scout-form"' not in html(as_worker.get(profile))  # not on your own profile
    assert 'data-testid="scout-form"' not in html(Client().get(profile))  # nor for visitors
    assert 'data-testid="scout-form"' not in html(as_worker.get(reverse("accounts:profile", args=[client_user.pk])))

    response = as_client.post(reverse("jobs:scout_send"), {"worker": worker.pk, "job": job.pk,
                                                           "message": "実績を拝見しました。ぜひ！"}, follow=True)
    page = html(response)
    assert "スカウトを送りました。" in page and "送ったスカウト" in page and "山田花子" in page
    scout = Scout.objects.get()
    assert 'data-testid="scout-form"' not in html(as_client.get(profile))  # no open job left to scout for

    page = html(as_worker.get(reverse("jobs:scouts")))
    assert "届いたスカウト" in page and "商品写真の切り抜き" in page and "実績を拝見しました。ぜひ！" in page
    assert "返信待ち" in page and "スカウトを辞退する" in page
    assert reverse("messaging:thread", args=[scout.thread.pk]) in page
    page = html(as_worker.get(reverse("jobs:detail", args=[job.pk])))
    assert "スカウトが届いています" in page and "実績を拝見しました。ぜひ！" in page and "この仕事に応募する" in page

    response = as_worker.post(reverse("jobs:apply", args=[job.pk]), apply_data())
    assert response.status_code == 302
    scout.refresh_from_db()
    assert scout.state == "applied"
    assert "スカウトが届いています" not in html(as_worker.get(reverse("jobs:detail", args=[job.pk])))
    assert "応募済み" in html(as_client.get(reverse("jobs:scouts_sent")))


def test_worker_declines_a_scout_from_the_job_page(client_user, worker):
    job = factories.job(client_user)
    scout = services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
    detail = reverse("jobs:detail", args=[job.pk])
    response = login(worker).post(reverse("jobs:scout_decline", args=[scout.pk]), {"next": detail}, follow=True)
    assert "スカウトを辞退しました。" in html(response) and "スカウトが届いています" not in html(response)
    scout.refresh_from_db()
    assert scout.state == "declined"


@pytest.mark.parametrize(("data", "message"), [
    ({"message": ""}, "スカウトメッセージ"),
    ({"job": "abc"}, "スカウトする仕事"),
    ({"worker": "self"}, "自分自身をスカウトすることはできません。"),
])
def test_bad_scout_input_is_refused_in_japanese(client_user, worker, data, message):
    job = factories.job(client_user)
    form = {"worker": worker.pk, "job": job.pk, "message": "どうぞ", **data}
    if form["worker"] == "self":
        form["worker"] = client_user.pk
    response = login(client_user).post(reverse("jobs:scout_send"), form, follow=True)
    assert response.status_code == 200
    assert message in html(response)
    assert not Scout.objects.exists()


def test_scouting_someone_elses_job_is_404(client_user, worker, stranger):
    job = factories.job(stranger)
    response = login(client_user).post(reverse("jobs:scout_send"), {"worker": worker.pk, "job": job.pk,
                                                                     "message": "どうぞ"})
    assert response.status_code == 404
    assert not Scout.objects.exists()


def test_scout_lists_query_count_does_not_grow(make_user, worker, client_user):
    def add(n):
        for _ in range(n):
            owner = make_user(f"scouter{Scout.objects.count()}")
            job = factories.job(owner)
            services.scout_send(user=owner, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
            services.scout_send(user=client_user, job_id=factories.job(client_user).pk,
                                worker_id=make_user(f"scouted{Scout.objects.count()}").pk, message="どうぞ")

    add(5)
    as_worker, as_client = login(worker), login(client_user)
    received, sent = reverse("jobs:scouts"), reverse("jobs:scouts_sent")
    as_worker.get(received)
    as_client.get(sent)  # presence is written on the first request of the minute
    few = (_count_queries(as_worker, received), _count_queries(as_client, sent))
    add(45)
    many = (_count_queries(as_worker, received), _count_queries(as_client, sent))
    assert Scout.objects.filter(worker=worker).count() == 50
    assert few == many


# --- non-party 404 table for test tasks and scouts ----------------------------------------------------------


def _test_task_urls(app, scout):
    return [
        ("GET", reverse("jobs:test_task_send", args=[app.pk]), {}),
        ("POST", reverse("jobs:test_task_send", args=[app.pk]), task_form_data()),
        *[(method, reverse("jobs:test_task_action", args=[app.pk, word]), data)
          for word, data in (("blocker", {"question": "?"}), ("answer", {"answer": "!"}),
                             ("submit", {"body": "横取り"}), ("evaluate", {"result": "fail"}))
          for method in ("GET", "POST")],
        ("GET", reverse("jobs:scout_decline", args=[scout.pk]), {}),
        ("POST", reverse("jobs:scout_decline", args=[scout.pk]), {}),
    ]


@pytest.mark.parametrize("index", range(12))
def test_non_party_gets_404_on_test_task_and_scout_urls_and_nothing_changes(client_user, worker, stranger, index):
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="課題", duration=timedelta(days=1))
    scout = services.scout_send(user=client_user, job_id=factories.job(client_user).pk, worker_id=worker.pk,
                                message="どうぞ")
    urls = _test_task_urls(app, scout)
    assert len(urls) == 12
    method, url, data = urls[index]

    def state():
        return (_snapshot(), list(TestTask.objects.values_list("state", "due_at", "remaining")),
                list(Scout.objects.values_list("state")), Message.objects.count())

    before = state()
    browser = login(stranger)
    response = browser.get(url) if method == "GET" else browser.post(url, data)
    assert response.status_code == 404, f"{method} {url} → {response.status_code}"
    assert state() == before


def test_strangers_scout_list_shows_nothing_of_others(client_user, worker, stranger):
    services.scout_send(user=client_user, job_id=factories.job(client_user).pk, worker_id=worker.pk,
                        message="秘密のスカウト")
    browser = login(stranger)
    for url in (reverse("jobs:scouts"), reverse("jobs:scouts_sent")):
        page = html(browser.get(url))
        assert "秘密のスカウト" not in page
    assert Client().get(reverse("jobs:scouts")).status_code == 302  # login first

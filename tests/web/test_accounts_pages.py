"""Profiles with last access, profile settings, the balance page, and sign-up / login through allauth in our
Japanese layout (with login throttling)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from anshin.accounts import presence
from anshin.accounts.models import Presence, User
from anshin.core import clock
from anshin.jobs import services as job_services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # allauth keeps login-failure counters in the cache
    yield
    cache.clear()


def html(response) -> str:
    return response.content.decode()


def seen(user, ago: timedelta):
    moment = clock.now() - ago
    Presence.objects.update_or_create(user=user, defaults={"last_seen_at": moment})
    return moment


# --- presence text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ago, text",
    [
        (timedelta(seconds=20), "たった今"),
        (timedelta(minutes=5, seconds=3), "約5分前"),
        (timedelta(hours=23, minutes=10), "約23時間前"),
        (timedelta(days=3, hours=4), "約3日前"),
        (timedelta(days=45), "約1ヶ月前"),
    ],
)
def test_relative_is_japanese_without_spaces(ago, text):
    moment = clock.now() - ago
    assert presence.relative(moment) == text
    with translation.override("en"):  # the 「約…前」 frame stays Japanese whatever the page language
        assert presence.relative(moment) == text


def test_template_filters():
    moment = datetime(2026, 7, 19, 1, 31, tzinfo=UTC)
    out = Template(
        "{% load anshin %}{{ 1234567|yen }} {{ -3000|signed_yen }} {{ 27000|signed_yen }} {{ m|exact }}"
    ).render(Context({"m": moment}))
    assert out == "¥1,234,567 −¥3,000 +¥27,000 2026/07/19 10:31"  # Asia/Tokyo


# --- profile -----------------------------------------------------------------------------------------------


def test_profile_shows_last_access_relative_with_exact_time(client, worker):
    worker.bio = "WordPressでの記事作成が得意です。\n平日10時〜18時に対応します。"
    worker.skills = "WordPress、画像編集, 校正"
    worker.save()
    moment = seen(worker, timedelta(hours=23, minutes=2))
    page = html(client.get(reverse("accounts:profile", args=[worker.pk])))
    assert "山田花子" in page and "WordPressでの記事作成が得意です。" in page
    assert "画像編集" in page and "校正" in page
    assert "最終アクセス日時" in page and "約23時間前" in page
    assert f'title="{presence.exact(moment)}"' in page
    assert timezone.localtime(moment).strftime("%Y/%m/%d %H:%M") in page


def test_hidden_last_access_shows_private(client, worker):
    worker.hide_last_access = True
    worker.save()
    moment = seen(worker, timedelta(hours=2))
    page = html(client.get(reverse("accounts:profile", args=[worker.pk])))
    assert "非公開" in page and "約2時間前" not in page and presence.exact(moment) not in page


def test_profile_lists_open_jobs_only(client, client_user):
    factories.job(client_user, title="募集中の記事作成")
    closed = factories.job(client_user, title="終了した記事作成")
    job_services.job_transition(job_id=closed.pk, user=client_user, action="close")
    page = html(client.get(reverse("accounts:profile", args=[client_user.pk])))
    assert "株式会社サンプル" in page and "募集中の仕事" in page
    assert "募集中の記事作成" in page and "終了した記事作成" not in page


def test_missing_profile_is_404(client):
    assert client.get(reverse("accounts:profile", args=[98765])).status_code == 404


def test_edit_profile(client, worker):
    client.force_login(worker)
    page = html(client.get(reverse("accounts:edit")))
    assert (
        "プロフィールを編集する" in page
        and "表示名" in page
        and "自己紹介" in page
        and "最終アクセス日時を非公開にする" in page
    )
    response = client.post(
        reverse("accounts:edit"),
        {"display_name": "山田はなこ", "bio": "翻訳もできます。", "skills": "翻訳, 校正", "hide_last_access": "on"},
    )
    assert response.status_code == 302 and response.url == reverse("accounts:profile", args=[worker.pk])
    worker.refresh_from_db()
    assert (worker.display_name, worker.bio, worker.skills, worker.hide_last_access) == (
        "山田はなこ",
        "翻訳もできます。",
        "翻訳, 校正",
        True,
    )
    page = html(client.get(response.url))
    assert "プロフィールを更新しました。" in page and "山田はなこ" in page and "非公開" in page


def test_bad_profile_input_changes_nothing(client, worker):
    client.force_login(worker)
    response = client.post(reverse("accounts:edit"), {"display_name": "長" * 51, "bio": "", "skills": ""})
    assert response.status_code == 400
    assert "50 文字以下" in html(response) or "50文字以下" in html(response)
    worker.refresh_from_db()
    assert worker.display_name == "山田花子"


def test_profile_edit_requires_login(client):
    response = client.get(reverse("accounts:edit"))
    assert response.status_code == 302 and reverse("account_login") in response.url


# --- balance -----------------------------------------------------------------------------------------------


def test_balance_shows_net_amount_and_history(client, client_user, worker):
    factories.contract(client_user, worker, state="accepted", amount=30_000)  # fee 20% → ¥24,000 to the worker
    client.force_login(worker)
    page = html(client.get(reverse("accounts:balance")))
    assert "出金可能額" in page and 'data-testid="balance">¥24,000<' in page
    assert "入出金の履歴" in page and "検収合格: 記事に写真を挿入する業務" in page and "+¥24,000" in page


def test_balance_is_per_user(client, client_user, worker, stranger):
    factories.contract(client_user, worker, state="accepted")
    client.force_login(stranger)
    page = html(client.get(reverse("accounts:balance")))
    assert 'data-testid="balance">¥0<' in page and "まだ入出金の履歴はありません。" in page
    assert "検収合格" not in page


def test_balance_requires_login(client):
    response = client.get(reverse("accounts:balance"))
    assert response.status_code == 302 and reverse("account_login") in response.url


# --- sign-up, login, throttling ------------------------------------------------------------------------------


def test_signup_page_is_japanese_in_our_layout(client):
    page = html(client.get(reverse("account_signup")))
    assert "ユーザー登録" in page and "Anshin" in page and "仕事を探す" in page  # our header
    assert 'name="email"' in page and 'name="password1"' in page


def test_signup_logs_in_and_lands_on_home(client):
    response = client.post(
        reverse("account_signup"), {"email": "new-worker@example.com", "password1": "anshin-Passw0rd-2026"}
    )
    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(email="new-worker@example.com")
    page = html(client.get(reverse("home")))
    assert "ログアウト" in page and reverse("accounts:profile", args=[user.pk]) in page


def test_signup_with_bad_input_shows_japanese_errors(client, worker):
    response = client.post(reverse("account_signup"), {"email": "worker@example.com", "password1": "x"})
    page = html(response)
    assert response.status_code == 200
    assert "ほかのユーザーがこのメールアドレスでアカウント登録済みです。" in page
    assert "このパスワードは短すぎます。" in page
    assert User.objects.filter(email="worker@example.com").count() == 1


def test_login_page_and_login(client, worker):
    page = html(client.get(reverse("account_login")))
    assert "ログイン" in page and 'name="login"' in page and 'name="password"' in page
    response = client.post(reverse("account_login"), {"login": "worker@example.com", "password": "pass-Anshin-2026"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_sixth_wrong_password_is_throttled_even_with_the_right_one(client, worker):
    url = reverse("account_login")
    for _ in range(5):
        page = html(client.post(url, {"login": "worker@example.com", "password": "wrong-password"}))
        assert "入力されたメールアドレスもしくはパスワードが正しくありません。" in page
    page = html(client.post(url, {"login": "worker@example.com", "password": "wrong-password"}))
    assert "ログイン失敗が連続しています。時間が経ってからやり直してください。" in page
    response = client.post(url, {"login": "worker@example.com", "password": "pass-Anshin-2026"})
    assert response.status_code == 200  # refused: no redirect into the site
    assert "ログイン失敗が連続しています" in html(response)
    assert "_auth_user_id" not in client.session

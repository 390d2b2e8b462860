"""Block and report pages: 「ブロックする」/「ブロックを解除」 and 「通報する」 on a profile, my blocks under settings,
the report form for users, messages, jobs and listings; login required, CSRF-protected posts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from anshin.core import clock
from anshin.messaging.models import Message
from anshin.ops.models import QueueItem
from anshin.trust import blocks
from anshin.trust.models import Block, Report
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

RECEIVED = "通報を受け付けました。事務局が確認します。"


def report_url(kind, subject_id):
    return f"{reverse('trust:report_new')}?subject={kind}&id={subject_id}"


def test_profile_offers_block_and_report_to_logged_in_others_only(client_user, worker):
    url = reverse("accounts:profile", args=[worker.pk])
    page = text(login(client_user).get(url))
    assert "ブロックする" in page and "通報する" in page and report_url("user", worker.pk).replace("&", "&amp;") in page
    assert "ブロックしても進行中の取引は続きます" in page
    own = text(login(worker).get(url))
    assert "ブロックする" not in own and "通報する" not in own
    assert "ブロックしたユーザー" in own  # the way to my settings page
    anonymous = text(Client().get(url))
    assert "ブロックする" not in anonymous and "通報する" not in anonymous


def test_block_from_the_profile_then_unblock(client_user, worker):
    browser = login(client_user)
    profile = reverse("accounts:profile", args=[worker.pk])
    response = browser.post(reverse("trust:block", args=[worker.pk]), {"next": profile})
    assert response.status_code == 302 and response.url == profile
    page = text(browser.get(profile))
    assert "ブロックしました" in page and "ブロックを解除" in page and "進行中の取引は続きます" in page
    assert blocks.blocked_between(client_user.pk, worker.pk)

    listing = text(browser.get(reverse("trust:blocks")))
    assert "山田花子" in listing and "ブロックを解除" in listing
    response = browser.post(reverse("trust:unblock", args=[worker.pk]), {"next": reverse("trust:blocks")})
    assert response.status_code == 302
    page = text(browser.get(reverse("trust:blocks")))
    assert "ブロックを解除しました。" in page and "ブロックしているユーザーはいません。" in page
    assert not Block.objects.exists()


def test_blocked_application_shows_the_neutral_message(client_user, worker):
    job = factories.job(client_user)
    blocks.block_create(user=client_user, target_id=worker.pk)
    response = login(worker).post(reverse("jobs:apply", args=[job.pk]), {
        "message": "よろしくお願いします。", "amount": "30000",
        "estimated_date": (clock.today() + timedelta(days=10)).isoformat(),
    })
    assert response.status_code == 400 and "このユーザーとは取引できません。" in text(response)
    assert not job.applications.exists()


def test_block_pages_need_login_and_post(worker):
    anonymous = Client()
    for url in (reverse("trust:blocks"), report_url("user", worker.pk)):
        response = anonymous.get(url)
        assert response.status_code == 302 and reverse("account_login") in response.url
    response = anonymous.post(reverse("trust:block", args=[worker.pk]))
    assert response.status_code == 302 and not Block.objects.exists()
    assert login(worker).get(reverse("trust:block", args=[worker.pk])).status_code == 405


def test_posts_are_csrf_protected(client_user, worker):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(client_user)
    assert browser.post(reverse("trust:block", args=[worker.pk])).status_code == 403
    response = browser.post(reverse("trust:report_new"), {"subject": "user", "id": worker.pk, "category": "spam",
                                                          "text": "宣伝ばかり"})
    assert response.status_code == 403
    assert not Block.objects.exists() and not Report.objects.exists()


def test_blocking_unknown_users_is_404(client_user):
    assert login(client_user).post(reverse("trust:block", args=[987654])).status_code == 404


def test_report_a_user_from_the_form(client_user, worker):
    browser = login(client_user)
    page = text(browser.get(report_url("user", worker.pk)))
    assert "通報する" in page and "山田花子さん" in page
    assert "外部連絡・直接取引への誘導" in page and 'type="radio"' in page
    response = browser.post(reverse("trust:report_new"), {"subject": "user", "id": worker.pk,
                                                          "category": "off_platform", "text": "LINEに誘導されました"})
    assert response.status_code == 302 and response.url == reverse("accounts:profile", args=[worker.pk])
    assert RECEIVED in text(browser.get(response.url))
    report = Report.objects.get()
    assert report.reported_user == worker and report.category == "off_platform"
    assert QueueItem.objects.get(kind="report").concerns == worker


def test_report_form_needs_a_category_and_a_text(client_user, worker):
    response = login(client_user).post(reverse("trust:report_new"), {"subject": "user", "id": worker.pk,
                                                                     "category": "", "text": ""})
    assert response.status_code == 400 and "このフィールドは必須です" in text(response)
    assert not Report.objects.exists()


def test_report_a_message_shows_it_and_strangers_get_404(client_user, worker, stranger):
    application = factories.application(client_user, worker)
    message = Message.objects.filter(thread=application.thread, sender=worker).first()
    page = text(login(client_user).get(report_url("message", message.pk)))
    assert "山田花子さんのメッセージ" in page and "よろしくお願いいたします。" in page
    assert login(stranger).get(report_url("message", message.pk)).status_code == 404
    response = login(stranger).post(reverse("trust:report_new"), {"subject": "message", "id": message.pk,
                                                                   "category": "spam", "text": "x"})
    assert response.status_code == 404 and not Report.objects.exists()
    response = login(client_user).post(reverse("trust:report_new"), {
        "subject": "message", "id": message.pk, "category": "harassment", "text": "失礼な言葉"})
    assert response.status_code == 302 and response.url == reverse("messaging:thread", args=[application.thread.pk])


def test_job_and_listing_pages_link_to_the_report_form(client_user, worker):
    job = factories.job(client_user)
    listing = factories.listing(worker)
    job_page = text(login(worker).get(reverse("jobs:detail", args=[job.pk])))
    assert "この仕事を通報する" in job_page and report_url("job", job.pk).replace("&", "&amp;") in job_page
    assert "この仕事を通報する" not in text(login(client_user).get(reverse("jobs:detail", args=[job.pk])))
    listing_page = text(login(client_user).get(reverse("orders:listing", args=[listing.pk])))
    assert "このサービスを通報する" in listing_page
    assert "このサービスを通報する" not in text(login(worker).get(reverse("orders:listing", args=[listing.pk])))
    response = login(client_user).post(reverse("trust:report_new"), {"subject": "listing", "id": listing.pk,
                                                                     "category": "inappropriate", "text": "盗用"})
    assert response.status_code == 302 and response.url == reverse("orders:listing", args=[listing.pk])
    response = login(worker).post(reverse("trust:report_new"), {"subject": "job", "id": job.pk,
                                                                "category": "nonpayment", "text": "仮払い前に作業依頼"})
    assert response.status_code == 302
    assert set(Report.objects.values_list("reported_user", flat=True)) == {worker.pk, client_user.pk}


def test_own_things_cannot_be_reported_and_bad_ids_are_404(client_user, worker):
    job = factories.job(client_user)
    response = login(client_user).get(report_url("job", job.pk))
    assert response.status_code == 400 and "通報できません" in text(response)
    for url in (report_url("job", 987654), report_url("contract", 1), report_url("user", "abc"),
                reverse("trust:report_new")):
        assert login(client_user).get(url).status_code == 404


def test_identity_verified_badge_on_the_profile(worker, operator):
    from anshin.trust.standing import account_verify_identity

    url = reverse("accounts:profile", args=[worker.pk])
    assert "本人確認済み" not in text(Client().get(url))
    account_verify_identity(user_id=worker.pk, operator=operator, note="免許証")
    assert "本人確認済み" in text(Client().get(url))

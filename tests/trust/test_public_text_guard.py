"""Public texts (jobs, listings, profiles) cannot be saved with off-platform contact details (PRODUCT.md §6):
the form or the API shows why, nothing is saved, and the attempt is logged as a hold. Prices, dates, times and
counts are ordinary texts and save as usual."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from anshin.accounts import services as accounts
from anshin.core import clock
from anshin.core.api_auth import token_create
from anshin.core.errors import DomainError
from anshin.jobs import services as jobs
from anshin.jobs.models import Job
from anshin.orders import services as orders
from anshin.orders.models import Listing
from anshin.trust.models import GuardHold
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

CONTACTS = ["LINE ID: abc_123 までご連絡ください", "急ぎの場合は 090-1234-5678 へ"]
ORDINARY = ("予算は¥30,000（税込）、納期は2026年5月10日、作業時間は10:00〜18:00です。写真50枚、"
            "注文番号 #12345 の続きです。修正は2回まで。")
REFUSED = "外部の連絡先が含まれているため保存できません"


def _job_data(**over):
    data = dict(title="商品写真の切り抜き", description="商品写真50枚の背景を切り抜いてください。", category="design",
                skills="Photoshop", budget_max=20_000, application_deadline=clock.today() + timedelta(days=7))
    data.update(over)
    return data


# --- services -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("contact", CONTACTS)
def test_a_job_with_contact_details_is_not_saved_and_the_hold_is_logged(contact, client_user):
    with pytest.raises(DomainError) as caught:
        jobs.job_create(user=client_user, **_job_data(description=f"詳細はこちら。{contact}"))
    assert caught.value.code == "contact_details" and REFUSED in caught.value.message
    assert "仕事の詳細" in caught.value.message
    assert not Job.objects.exists()
    hold = GuardHold.objects.get(user=client_user)
    assert hold.surface == "job" and hold.kinds and hold.fragments


def test_editing_a_job_to_add_contact_details_changes_nothing(client_user):
    job = factories.job(client_user)
    with pytest.raises(DomainError) as caught:
        jobs.job_update(job_id=job.pk, user=client_user, title="LINE ID: abc_123 で相談")
    assert caught.value.code == "contact_details" and "タイトル" in caught.value.message
    job.refresh_from_db()
    assert job.title == "記事に写真を挿入する業務"
    assert GuardHold.objects.filter(user=client_user, surface="job").count() == 1


def test_someone_elses_job_is_not_found_before_any_guard(client_user, stranger):
    job = factories.job(client_user)
    from anshin.core.errors import NotFound

    with pytest.raises(NotFound):
        jobs.job_update(job_id=job.pk, user=stranger, title="090-1234-5678")
    assert not GuardHold.objects.exists()


@pytest.mark.parametrize("where", ["title", "description", "option", "question", "choice", "example"])
def test_a_listing_with_contact_details_anywhere_is_not_saved(where, worker):
    contact = "LINE ID: abc_123"
    over = {}
    if where in ("title", "description"):
        over[where] = f"ご相談は {contact}"
    elif where == "option":
        over["options"] = [{"title": f"電話相談 {contact}", "price": 1_000, "extra_days": 0}]
    else:
        question = dict(factories.HEARING[1])
        key = {"question": "text", "example": "example"}.get(where)
        if key:
            question[key] = f"{question[key]} {contact}"
        else:
            question["choices"] = [*question["choices"], contact]
        over["questions"] = [question]
    with pytest.raises(DomainError) as caught:
        factories.listing(worker, **over)
    assert caught.value.code == "contact_details"
    assert not Listing.objects.exists()
    assert GuardHold.objects.get(user=worker).surface == "listing"


def test_editing_a_listing_to_add_contact_details_changes_nothing(worker):
    listing = factories.listing(worker)
    data = dict(title=listing.title, description="詳細は 090-1234-5678 まで", category=listing.category,
                price=listing.price, delivery_days=listing.delivery_days,
                included_revisions=listing.included_revisions, options=[], questions=[])
    with pytest.raises(DomainError):
        orders.listing_update(listing_id=listing.pk, user=worker, **data)
    listing.refresh_from_db()
    assert listing.description == "シンプルで覚えやすいロゴをお作りします。" and listing.options.count() == 1


@pytest.mark.parametrize("field", ["display_name", "bio", "skills"])
def test_a_profile_with_contact_details_is_not_saved(field, worker):
    values = {"display_name": worker.display_name, "bio": "", "skills": "", "hide_last_access": False}
    values[field] = "山田090-1234-5678" if field == "display_name" else "LINE ID: abc_123"
    with pytest.raises(DomainError) as caught:
        accounts.profile_update(user=worker, **values)
    assert caught.value.code == "contact_details"
    worker.refresh_from_db()
    assert worker.display_name == "山田花子" and worker.bio == "" and worker.skills == ""
    assert GuardHold.objects.get(user=worker).surface == "profile"


def test_ordinary_texts_with_prices_dates_and_counts_save(client_user, worker):
    job = jobs.job_create(user=client_user, **_job_data(description=ORDINARY))
    assert job.description == ORDINARY
    listing = factories.listing(worker, description=ORDINARY)
    assert listing.description == ORDINARY
    accounts.profile_update(user=worker, display_name="山田花子", bio=ORDINARY, skills="Photoshop, 写真加工",
                            hide_last_access=False)
    worker.refresh_from_db()
    assert worker.bio == ORDINARY
    assert not GuardHold.objects.exists()


def test_the_third_refusal_in_30_days_flags_the_user_for_the_operators(client_user):
    from anshin.ops.models import QueueItem

    for _ in range(3):
        with pytest.raises(DomainError):
            jobs.job_create(user=client_user, **_job_data(description="090-1234-5678 へお電話ください"))
    flag = QueueItem.objects.get(kind="guard_flag")
    assert flag.concerns == client_user and flag.payload["reason"] == "repeat_holds"


# --- pages ----------------------------------------------------------------------------------------------


def test_job_form_shows_why_and_saves_nothing(client_user):
    from tests.web.test_jobs_pages import job_post_data

    response = login(client_user).post(reverse("jobs:create"), job_post_data(description="LINE ID: abc_123 まで"))
    assert response.status_code == 400
    page = text(response)
    assert REFUSED in page and "仕事の詳細（LINE）" in page
    assert "LINE ID: abc_123 まで" in page  # the text is kept in the form to be edited
    assert not Job.objects.exists() and GuardHold.objects.filter(surface="job").count() == 1


def test_listing_form_shows_why_and_saves_nothing(worker):
    from tests.orders.test_pages import listing_post

    response = login(worker).post(reverse("orders:listing_create"),
                                  listing_post(**{"opt-0-title": "電話相談 090-1234-5678"}))
    assert response.status_code == 400
    assert REFUSED in text(response) and "オプション1の名前" in text(response)
    assert not Listing.objects.exists() and GuardHold.objects.filter(surface="listing").count() == 1


def test_profile_form_shows_why_and_saves_nothing(worker):
    response = login(worker).post(reverse("accounts:edit"),
                                  {"display_name": "山田花子", "bio": "ご連絡は 090-1234-5678 へ", "skills": ""})
    assert response.status_code == 400
    assert REFUSED in text(response) and "自己紹介" in text(response)
    worker.refresh_from_db()
    assert worker.bio == ""


# --- API ------------------------------------------------------------------------------------------------


def _api(user):
    return Client(headers={"Authorization": f"Bearer {token_create(user=user).key}"})


def _json(response):
    return response.status_code, json.loads(response.content)


def test_api_refuses_contact_details_with_contact_details_code(client_user, worker):
    payload = {"title": "翻訳", "description": "LINE ID: abc_123 でご連絡ください", "category": "translation",
               "budget_max": 20_000, "application_deadline": str(clock.today() + timedelta(days=5))}
    status, body = _json(_api(client_user).post("/api/jobs", json.dumps(payload), content_type="application/json"))
    assert status == 400 and body["code"] == "contact_details" and REFUSED in body["message"]
    assert not Job.objects.exists()
    status, body = _json(_api(worker).patch("/api/me", json.dumps({"bio": "090-1234-5678"}),
                                            content_type="application/json"))
    assert status == 400 and body["code"] == "contact_details"
    worker.refresh_from_db()
    assert worker.bio == ""
    listing = {"title": "ロゴ", "description": "ご相談は 090-1234-5678 へ", "category": "design", "price": 10_000,
               "delivery_days": 5, "included_revisions": 1}
    status, body = _json(_api(worker).post("/api/listings", json.dumps(listing), content_type="application/json"))
    assert status == 400 and body["code"] == "contact_details"
    assert not Listing.objects.exists()

"""English through i18n: the `django_language` cookie (set by the footer switcher) turns the pages English;
without it — even when the browser asks for English — Anshin stays Japanese. Text that is stored (system
messages, notifications) stays Japanese whoever triggered it."""

import pytest
from django.conf import settings
from django.test import Client

from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def browser(user=None, language=None, **headers) -> Client:
    c = Client(**headers)
    if user is not None:
        c.force_login(user)
    if language:
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return c


def page(c: Client, url: str) -> str:
    response = c.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_top_page_in_english_with_the_cookie(client_user):
    factories.job(client_user)
    html = page(browser(language="en"), "/")
    assert '<html lang="en">' in html
    for english in ("Find work", "Log in", "Sign up", "Keywords", "Search", "<strong>1</strong> job found", "Writing",
                    "Nobody works for free."):
        assert english in html, english
    for japanese in ("仕事を探す", "ログイン", "会員登録", "キーワード", "検索する", "件の仕事が見つかりました",
                     "ライティング", "誰もただ働きしない"):
        assert japanese not in html, japanese


@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}])
def test_top_page_is_japanese_without_the_cookie_even_if_the_browser_asks_for_english(client_user, headers):
    factories.job(client_user)
    response = browser(**headers).get("/")
    html = response.content.decode()
    assert response.headers["Content-Language"] == "ja"
    assert '<html lang="ja">' in html
    for japanese in ("仕事を探す", "ログイン", "会員登録", "<strong>1</strong>件の仕事が見つかりました",
                     "ライティング"):
        assert japanese in html, japanese
    for english in ("Find work", "Log in", "Sign up", "job found"):
        assert english not in html, english


def test_unknown_language_in_the_cookie_falls_back_to_japanese(client_user):
    factories.job(client_user)
    html = page(browser(language="fr"), "/")
    assert "仕事を探す" in html and "Find work" not in html


def test_job_detail_in_english_and_in_japanese(client_user, worker):
    job = factories.job(client_user)
    url = f"/jobs/{job.pk}/"

    en = page(browser(worker, "en"), url)
    for english in ("Open", "Writing", "Job details", "Budget", "Apply by", "Apply for this job", "Apply</button>"):
        assert english in en, english
    for japanese in ("募集中", "ライティング", "仕事の詳細", "応募期限", "この仕事に応募する", "応募する</button>"):
        assert japanese not in en, japanese

    ja = page(browser(worker), url)
    for japanese in ("募集中", "ライティング", "仕事の詳細", "応募期限", "この仕事に応募する", "応募する</button>"):
        assert japanese in ja, japanese
    assert "Apply for this job" not in ja and "Job details" not in ja


def test_job_detail_dates_follow_the_language(client_user, worker):
    job = factories.job(client_user)
    deadline = job.application_deadline
    en = page(browser(worker, "en"), f"/jobs/{job.pk}/")
    ja = page(browser(worker), f"/jobs/{job.pk}/")
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in ja
    assert f"{deadline:%b} {deadline.day}, {deadline.year}" in en
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" not in en


def test_contract_page_shows_english_state_and_buttons(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    url = f"/contracts/{contract.pk}/"

    en = page(browser(worker, "en"), url)
    assert 'data-testid="state">In progress</span>' in en
    assert 'data-action="deliver">Deliver work</button>' in en
    for english in ("Client", "Freelancer", "Contract amount (incl. tax)", "Deliveries", "Timeline", "Actions"):
        assert english in en, english
    for japanese in ("作業中", "納品する", "契約金額（税込）", "タイムライン", "操作</h2>"):
        assert japanese not in en, japanese

    ja = page(browser(worker), url)
    assert 'data-testid="state">作業中</span>' in ja
    assert 'data-action="deliver">納品する</button>' in ja
    assert "In progress" not in ja and "Deliver work" not in ja


def test_client_buttons_after_delivery_in_english(client_user, worker):
    contract = factories.contract(client_user, worker, state="delivered")
    en = page(browser(client_user, "en"), f"/contracts/{contract.pk}/")
    assert 'data-testid="state">Awaiting acceptance</span>' in en
    assert ">Accept delivery</button>" in en and ">Request a revision</button>" in en
    assert "検収合格にする" not in en and "修正を依頼する" not in en
    ja = page(browser(client_user), f"/contracts/{contract.pk}/")
    assert ">検収合格にする</button>" in ja and ">修正を依頼する</button>" in ja


def test_thread_and_inbox_in_english(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    url = f"/messages/{contract.thread.pk}/"

    en = page(browser(worker, "en"), url)
    for english in ("Go to contract", "Attachments", "(up to 5 files, 10 MB each)", "Send</button>", "Notice"):
        assert english in en, english
    for japanese in ("契約ページへ", "添付ファイル", "送信する", "お知らせ"):
        assert japanese not in en, japanese

    ja = page(browser(worker), url)
    for japanese in ("契約ページへ", "添付ファイル", "送信する</button>", "お知らせ"):
        assert japanese in ja, japanese
    assert "Send</button>" not in ja

    inbox = page(browser(worker, "en"), "/messages/")
    assert "<h1>Messages</h1>" in inbox and "<h1>メッセージ</h1>" not in inbox


def test_order_page_in_english_for_both_sides(client_user, worker):
    order = factories.order(client_user, worker, state="delivered")
    url = f"/orders/{order.pk}/"

    en = page(browser(client_user, "en"), url)
    assert 'data-testid="state">Delivered (awaiting approval)</span>' in en
    assert 'data-action="approve">Approve (complete the order)</button>' in en
    assert 'data-action="request_revision">Send back for revision</button>' in en
    for english in ("All orders", "Buyer", "Seller", "Service price", "Purchase fee (5.5%)", "Total to pay",
                    "Revisions", "0 of 1 used", "Revisions left: 1", "Cancellation request", "Questionnaire answers",
                    "Delivery #1", "Timeline"):
        assert english in en, english
    for japanese in ("納品確認待ち", "承諾する（取引完了）", "差し戻す（修正依頼）", "注文一覧", "お支払い合計",
                     "差し戻しできる残り回数", "キャンセル申請", "ヒアリングシートの回答", "タイムライン"):
        assert japanese not in en, japanese

    seller_en = page(browser(worker, "en"), url)
    assert "Seller fee (22%)" in seller_en and 'you receive <strong data-testid="net">¥7,800</strong>)' in seller_en
    assert "販売手数料" not in seller_en and "受取額" not in seller_en

    ja = page(browser(client_user), url)
    assert 'data-testid="state">納品確認待ち</span>' in ja
    assert 'data-action="approve">承諾する（取引完了）</button>' in ja
    for japanese in ("お支払い合計", "キャンセル申請", "ヒアリングシートの回答"):
        assert japanese in ja, japanese
    assert "Approve (complete the order)" not in ja and "Total to pay" not in ja


def test_listing_page_and_search_in_english(client_user, worker):
    listing = factories.listing(worker, delivery_days=5, included_revisions=1)
    url = f"/services/{listing.pk}/"

    en = page(browser(client_user, "en"), url)
    for english in ("Find services", "Price", "Delivery time", "5 days after the order is accepted", "Revisions",
                    "Up to 1 revision", "About this service", "Options", "Seller", "Buy this service",
                    "Questionnaire", "(choose one)", "Total to pay", '<button type="submit">Buy now</button>'):
        assert english in en, english
    for japanese in ("サービスを探す", "注文の承諾から5日", "1回まで", "このサービスを購入する", "ヒアリングシート",
                     "お支払い合計", "購入する</button>"):
        assert japanese not in en, japanese

    ja = page(browser(client_user), url)
    for japanese in ("注文の承諾から5日", "1回まで", "このサービスを購入する",
                     '<button type="submit">購入する</button>'):
        assert japanese in ja, japanese
    assert "Buy now" not in ja and "Find services" not in ja

    results = page(browser(language="en"), "/services/")
    assert "<strong>1</strong> service found" in results and "件のサービスが見つかりました" not in results
    assert "<strong>1</strong>件のサービスが見つかりました" in page(browser(), "/services/")


def test_stored_messages_and_notifications_stay_japanese_when_the_actor_reads_english(client_user, worker):
    contract = factories.contract(client_user, worker, state="offered")
    response = browser(worker, "en").post(f"/contracts/{contract.pk}/actions/accept_offer/")
    assert response.status_code in (200, 302)
    contract.refresh_from_db()
    assert contract.state == "awaiting_funding"
    note = Notification.objects.filter(user=client_user, kind="contract.accept_offer").get()
    assert "仮払い待ち" in note.title and "Awaiting" not in note.title
    # …and the client reading Japanese sees Japanese buttons on the same contract.
    ja = page(browser(client_user), f"/contracts/{contract.pk}/")
    assert ">仮払いする</button>" in ja


def test_api_labels_are_plain_strings_in_either_language(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    for language, state, deliver in ((None, "作業中", "納品する"), ("en", "In progress", "Deliver work")):
        response = browser(worker, language).get(f"/api/contracts/{contract.pk}")
        assert response.status_code == 200
        body = response.json()
        assert body["state_label"] == state
        assert {"action": "deliver", "label": deliver} in [
            {"action": a["action"], "label": a["label"]} for a in body["allowed_actions"]]


def test_switcher_sets_the_cookie_and_the_next_page_is_english(client_user):
    factories.job(client_user)
    c = browser()
    assert "仕事を探す" in page(c, "/")
    response = c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = page(c, "/")
    assert "Find work" in html and "仕事を探す" not in html
    # and back to Japanese
    c.post("/i18n/setlang/", {"language": "ja", "next": "/"})
    assert "仕事を探す" in page(c, "/")


def test_flow_document_stays_japanese_whatever_language_is_active():
    from django.utils import translation

    from anshin.core import flowdocs

    with translation.override("en"):
        text = flowdocs.render()
    assert text == flowdocs.output_path().read_text()
    assert "| `funded` | 作業中 |" in text and "In progress" not in text

"""The thread page and the contact guard (PRODUCT.md §6): a held message comes back with the flagged parts
marked (escaped) and the text kept, to edit or to send masked, with and without htmx; 事務局からの注意 for the
recipients of a message with scam signals; 通報 links; the サービス外連絡申請 section (request, 回答予定日,
withdraw, history without the operators' reasons); strangers get 404."""

import re

import pytest
from django.urls import reverse

from anshin.messaging.models import Message
from anshin.trust import permits
from anshin.trust.models import ContactPermit, GuardHold
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

LINE_ID = "anshin_dev42"
WITH_LINE = f"よろしくお願いします。LINE ID: {LINE_ID} までご連絡ください。"
SCAM = "手数料がもったいないので、サイトを通さずに直接取引にしましょう。仮払いの前に作業を始めてください。"
SECRET_NOTE = "社内メモ: 過去に直接取引の誘導あり"


@pytest.fixture
def thread(client_user, worker):
    return factories.application(client_user, worker).thread


def url(name, thread, *args):
    return reverse(f"messaging:{name}", args=[thread.pk, *args])


def held_panel(page: str) -> str:
    match = re.search(r'<div class="held card".*?</div>\s*</div>', page, re.S)
    assert match, "no held panel"
    return match.group(0)


def test_a_held_message_comes_back_with_the_parts_marked_and_the_text_kept(thread, client_user):
    browser = login(client_user)
    before = Message.objects.count()
    response = browser.post(url("send", thread), {"body": WITH_LINE})
    assert response.status_code == 400
    page = text(response)
    panel = held_panel(page)
    assert "送信を保留しました" in panel and "LINE" in panel
    assert re.search(rf"<mark[^>]*>[^<]*{LINE_ID}[^<]*</mark>", panel), panel
    assert "連絡先を伏せて送信する" in panel and 'name="mask_contacts"' in panel
    assert "サービス外連絡申請" in panel and 'href="#permits"' in panel
    assert re.search(rf"<textarea[^>]*name=\"body\"[^>]*>\s*{re.escape(WITH_LINE)}</textarea>", page)  # kept
    assert Message.objects.count() == before and GuardHold.objects.count() == 1


def test_the_held_text_is_escaped(thread, client_user):
    body = f"<script>alert(1)</script><b>太字</b> LINE ID: {LINE_ID}"
    page = text(login(client_user).post(url("send", thread), {"body": body}))
    panel = held_panel(page)
    assert "<script>alert(1)" not in page and "<b>太字" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;太字&lt;/b&gt;" in panel
    assert re.search(rf"<mark[^>]*>[^<]*{LINE_ID}[^<]*</mark>", panel)


def test_send_masked_from_the_panel(thread, client_user, worker):
    browser = login(client_user)
    browser.post(url("send", thread), {"body": WITH_LINE})
    response = browser.post(url("send", thread), {"body": WITH_LINE, "mask_contacts": "1"})
    assert response.status_code == 302
    message = Message.objects.filter(thread=thread).latest("id")
    assert message.masked and LINE_ID not in message.body and "●●●" in message.body
    recipient_page = text(login(worker).get(url("thread", thread)))
    assert "●●●" in recipient_page and LINE_ID not in recipient_page
    assert "連絡先を伏せて送信されたメッセージです" in recipient_page


def test_held_and_masked_with_htmx(thread, client_user):
    browser = login(client_user)
    after = Message.objects.filter(thread=thread).latest("id").pk
    response = browser.post(url("send", thread), {"body": WITH_LINE, "after": after}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Trigger" not in response  # the form keeps its text
    page = text(response)
    assert re.search(r'<div id="send-held" hx-swap-oob="true">', page)
    assert "送信を保留しました" in page and re.search(rf"<mark[^>]*>[^<]*{LINE_ID}", page)

    response = browser.post(url("send", thread), {"body": WITH_LINE, "after": after, "mask_contacts": "1"},
                            HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "sent"
    page = text(response)
    assert re.search(r'<div id="send-held" hx-swap-oob="true"></div>', page)  # the panel goes away
    assert "●●●" in page and LINE_ID not in page  # the new (masked) message comes with the reply


def test_scam_caution_is_shown_to_the_recipient_only(thread, client_user, worker):
    assert login(client_user).post(url("send", thread), {"body": SCAM}).status_code == 302
    message = Message.objects.filter(thread=thread).latest("id")
    assert message.caution
    recipient = text(login(worker).get(url("thread", thread)))
    assert "事務局からの注意" in recipient and "仮払い前に作業を始めないでください" in recipient
    assert f'/reports/new/?subject=message&amp;id={message.pk}' in recipient
    sender = text(login(client_user).get(url("thread", thread)))
    assert SCAM in sender and "事務局からの注意" not in sender


def test_report_links_on_the_other_persons_messages_only(thread, client_user, worker):
    mine = Message.objects.filter(thread=thread, sender=worker).get()  # the application message
    client_page = text(login(client_user).get(url("thread", thread)))
    assert f'href="/reports/new/?subject=message&amp;id={mine.pk}"' in client_page
    worker_page = text(login(worker).get(url("thread", thread)))
    assert 'data-testid="report-message"' not in worker_page


def test_request_a_permit_and_withdraw_it(thread, client_user, worker):
    browser = login(client_user)
    page = text(browser.get(url("thread", thread)))
    assert 'data-testid="permit-form"' in page and "サービス外連絡申請" in page

    response = browser.post(url("permit_request", thread), {"tool": "zoom", "purpose": "週1回の定例ミーティング"})
    assert response.status_code == 302 and response["Location"].endswith("#permits")
    permit = ContactPermit.objects.get(thread=thread)
    page = text(browser.get(url("thread", thread)))
    assert "審査中" in page and "回答予定日" in page and "週1回の定例ミーティング" in page
    assert 'data-testid="permit-form"' not in page and 'data-testid="permit-withdraw"' in page
    other = text(login(worker).get(url("thread", thread)))
    assert "審査中" in other and 'data-testid="permit-withdraw"' not in other

    response = login(worker).post(url("permit_withdraw", thread, permit.pk))  # not the requester
    permit.refresh_from_db()
    assert permit.state == "pending"
    response = browser.post(url("permit_withdraw", thread, permit.pk))
    assert response.status_code == 302
    permit.refresh_from_db()
    assert permit.state == "withdrawn"
    page = text(browser.get(url("thread", thread)))
    assert 'data-testid="permit-history"' in page and "取り下げ" in page and 'data-testid="permit-form"' in page


def test_permit_form_errors_are_shown(thread, client_user):
    response = login(client_user).post(url("permit_request", thread), {"tool": "zoom", "purpose": ""})
    assert response.status_code == 400
    assert "利用目的を入力してください。" in text(response)
    assert not ContactPermit.objects.exists()
    response = login(client_user).post(url("permit_request", thread), {"tool": "fax", "purpose": "x"})
    assert response.status_code == 400 and "利用するツールを選んでください。" in text(response)


def test_the_denial_reason_never_reaches_the_parties(thread, client_user, worker, operator):
    permit = permits.permit_request(thread_id=thread.pk, user=client_user, tool="line", purpose="急ぎの連絡用")
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=False, note=SECRET_NOTE)
    for user in (client_user, worker):
        page = text(login(user).get(url("thread", thread)))
        assert "否認" in page and "理由は開示していません" in page
        assert SECRET_NOTE not in page and "過去に直接取引" not in page


def test_an_approved_permit_lets_the_message_through_on_the_page(thread, client_user, operator):
    permit = permits.permit_request(thread_id=thread.pk, user=client_user, tool="line", purpose="急ぎの連絡用")
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=True, note="問題なし")
    browser = login(client_user)
    assert browser.post(url("send", thread), {"body": WITH_LINE}).status_code == 302
    page = text(browser.get(url("thread", thread)))
    assert LINE_ID in page and "承認済み" in page


def test_strangers_get_404_on_the_new_urls(thread, client_user, stranger):
    permit = permits.permit_request(thread_id=thread.pk, user=client_user, tool="zoom", purpose="定例")
    outsider = login(stranger)
    for path in (url("permit_request", thread), url("permit_withdraw", thread, permit.pk)):
        assert outsider.get(path).status_code == 404
        assert outsider.post(path, {"tool": "zoom", "purpose": "x"}).status_code == 404
    assert outsider.post(url("send", thread), {"body": WITH_LINE, "mask_contacts": "1"}).status_code == 404
    # a permit of another thread through this thread's URL: 404 as well
    other = factories.application(client_user, stranger).thread
    assert login(client_user).post(url("permit_withdraw", other, permit.pk)).status_code == 404
    permit.refresh_from_db()
    assert permit.state == "pending" and not GuardHold.objects.exists()

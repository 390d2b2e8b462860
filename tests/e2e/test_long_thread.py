"""A long thread in the browser (issue 6): the page opens on the newest 50 messages; 「以前のメッセージを表示」
brings the older ones in above them, in order, without leaving the page, and the live poll keeps working."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from anshin.core import clock
from tests import factories
from tests.e2e.helpers import PASSWORD, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_older_messages_load_above_the_newest_page(new_page):
    from anshin.accounts.models import User
    from anshin.messaging.models import Message
    from anshin.messaging.services import message_send

    client_user = User.objects.create_user(email="client@example.com", password=PASSWORD, display_name="発注者A")
    worker = User.objects.create_user(email="worker@example.com", password=PASSWORD, display_name="受注者B")
    thread = factories.application(client_user, worker).thread  # the application message is the first
    start = clock.now() - timedelta(days=2)
    thread.messages.update(created_at=start - timedelta(minutes=1))
    Message.objects.bulk_create([
        Message(thread=thread, sender=client_user if i % 2 else worker, body=f"連絡{i:02d}番",
                created_at=start + timedelta(minutes=i))
        for i in range(60)
    ])

    page = new_page()
    log_in(page, "client@example.com")
    page.goto(f"/messages/{thread.pk}/")
    messages = page.locator("#messages article.msg")
    expect(messages).to_have_count(50)
    expect(messages.first).to_contain_text("連絡10番")
    expect(messages.last).to_contain_text("連絡59番")

    page.get_by_role("link", name="以前のメッセージを表示").click()
    expect(messages).to_have_count(61)
    expect(messages.first).to_contain_text("よろしくお願いいたします。")
    expect(messages.nth(10)).to_contain_text("連絡09番")
    expect(messages.nth(11)).to_contain_text("連絡10番")
    expect(page.get_by_role("link", name="以前のメッセージを表示")).to_have_count(0)  # nothing older is left
    assert page.url.endswith(f"/messages/{thread.pk}/")  # swapped in place, not a new page

    message_send(thread=thread, sender=worker, body="新しいメッセージです")  # the poll (every 4 s) still appends
    expect(messages.last).to_contain_text("新しいメッセージです", timeout=10_000)
    expect(messages).to_have_count(62)

"""The in-app notification centre: newest first, unread highlighted, mark all read, open one."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from anshin.core import clock
from anshin.notifications.models import Notification
from anshin.notifications.services import notify
from tests.web.helpers import login


@pytest.fixture
def three(worker):
    start = clock.now()
    items = []
    for i, title in enumerate(["古い通知", "中くらいの通知", "新しい通知"]):
        with time_machine.travel(start + timedelta(hours=i), tick=False):
            items.append(notify(user=worker, kind="test", title=title, body=f"本文{i}", url="/contracts/",
                                dedupe_key=f"t{i}"))
    return items


def test_list_is_newest_first_with_unread_highlighted(three, worker):
    Notification.objects.filter(pk=three[0].pk).update(read_at=clock.now())
    page = login(worker).get(reverse("notifications:list")).content.decode()
    assert page.index("新しい通知") < page.index("中くらいの通知") < page.index("古い通知")
    assert page.count('class="card notification unread"') == 2
    assert 'data-testid="notification-unread">2<' in page
    assert "すべて既読にする" in page


def test_mark_all_read_touches_only_my_notifications(three, worker, client_user):
    theirs = notify(user=client_user, kind="test", title="他人の通知", dedupe_key="other")
    browser = login(worker)
    response = browser.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=worker, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    page = browser.get(reverse("notifications:list")).content.decode()
    assert "3件の通知を既読にしました。" in page
    assert "unread" not in page.split("<main", 1)[1].split("</main>")[0].replace("notification-unread", "")
    assert login(worker).get(reverse("notifications:read_all")).status_code == 405  # a link cannot do it


def test_opening_a_notification_marks_it_read_and_follows_it(three, worker, stranger):
    target = three[2]
    assert login(stranger).post(reverse("notifications:open", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.read_at is None
    response = login(worker).post(reverse("notifications:open", args=[target.pk]))
    assert response.status_code == 302 and response["Location"] == "/contracts/"
    target.refresh_from_db()
    assert target.read_at is not None


def test_a_notification_never_redirects_off_site(worker):
    n = notify(user=worker, kind="test", title="怪しい", url="https://evil.example/", dedupe_key="evil")
    response = login(worker).post(reverse("notifications:open", args=[n.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_contract_events_reach_the_centre(client_user, worker):
    from tests import factories

    factories.contract(client_user, worker, state="offered")
    page = login(worker).get(reverse("notifications:list")).content.decode()
    assert "オファー中" in page and "契約オファーが届きました" in page


def test_title_is_escaped(worker):
    notify(user=worker, kind="test", title="<img src=x onerror=alert(1)>", dedupe_key="xss")
    page = login(worker).get(reverse("notifications:list")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page

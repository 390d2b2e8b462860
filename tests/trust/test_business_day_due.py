"""サービス外連絡申請 is due 2 business days after the request (PRODUCT.md §6): weekends and Japanese public
holidays (振替休日 and 国民の休日 included) do not count, and days are counted on the Tokyo calendar."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.urls import reverse

from anshin.ops.models import QueueItem
from anshin.trust import permits
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def test_the_calendar_knows_the_2026_holidays_these_cases_rely_on():
    jp = holidays.country_holidays("JP", years=2026)
    # September 2026: 敬老の日 (Mon 21), 国民の休日 (Tue 22, between two holidays), 秋分の日 (Wed 23)
    for day in (date(2026, 9, 21), date(2026, 9, 22), date(2026, 9, 23)):
        assert day in jp, day
    assert date(2026, 9, 24) not in jp and date(2026, 9, 25) not in jp
    # Golden Week 2026: 昭和の日 (Wed 4/29), 憲法記念日 (Sun 5/3), みどりの日 (Mon 5/4), こどもの日 (Tue 5/5),
    # 振替休日 (Wed 5/6, for the Sunday)
    for day in (date(2026, 4, 29), date(2026, 5, 3), date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)):
        assert day in jp, day
    assert date(2026, 5, 1) not in jp and date(2026, 5, 7) not in jp


@pytest.mark.parametrize("requested, due", [
    # Friday before the September holidays: Sat, Sun, Mon-Wed holidays; Thu 24 is day 1, Fri 25 day 2
    (jst(2026, 9, 18, 10, 0), jst(2026, 9, 25, 10, 0)),
    # late on a Friday before an ordinary weekend: Mon is day 1, Tue day 2
    (jst(2026, 10, 2, 23, 30), jst(2026, 10, 6, 23, 30)),
    # 08:00 JST on a Friday is still Thursday in UTC: counted from Friday all the same
    (jst(2026, 10, 2, 8, 0), jst(2026, 10, 6, 8, 0)),
    # Golden Week: Fri 5/1, then Sat, Sun, Mon–Wed holidays; Thu 5/7 is day 1, Fri 5/8 day 2
    (jst(2026, 5, 1, 15, 0), jst(2026, 5, 8, 15, 0)),
    # across 昭和の日 only: Tue 4/28 → Thu 4/30 (day 1), Fri 5/1 (day 2)
    (jst(2026, 4, 28, 9, 0), jst(2026, 5, 1, 9, 0)),
    # an ordinary week: Mon → Wed
    (jst(2026, 10, 5, 11, 0), jst(2026, 10, 7, 11, 0)),
])
def test_permit_due_two_business_days_later(client_user, worker, requested, due):
    thread = factories.application(client_user, worker).thread
    with time_machine.travel(requested, tick=False):
        permit = permits.permit_request(thread_id=thread.pk, user=client_user, tool="zoom", purpose="定例会議")
    assert permit.decide_by == due
    item = QueueItem.objects.get(kind=QueueItem.Kind.PERMIT, subject_id=permit.pk)
    assert item.due_at == due


def test_the_thread_page_shows_the_answer_date_in_tokyo_time(client_user, worker):
    thread = factories.application(client_user, worker).thread
    with time_machine.travel(jst(2026, 9, 18, 10, 0), tick=False):
        permits.permit_request(thread_id=thread.pk, user=worker, tool="chatwork", purpose="納品物の相談")
        for user in (client_user, worker):
            page = text(login(user).get(reverse("messaging:thread", args=[thread.pk])))
            assert "回答予定日" in page
            assert "2026年9月25日（金） 10:00" in page

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.reviews.models import ReviewWindow
from tests import factories
from tests.api.conftest import api_as  # noqa: F401 - the API client fixture, for the API twins tested here

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)

# A comment nobody else writes: if it shows up anywhere the other side can see before the reveal, it leaked.
SECRET = "納期は守るが説明が雑だった・合言葉ひまわり"
RATINGS_A = {"skill": 2, "quality": 3, "schedule": 1, "communication": 4, "partnership": 2}
RATINGS_B = {"skill": 5, "quality": 5, "schedule": 4, "communication": 5, "partnership": 5}


@pytest.fixture
def clock():
    """Frozen time: the test moves it explicitly."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def window(clock, client_user, worker) -> ReviewWindow:
    """The review window of a contract the client has just accepted (opened at START)."""
    contract = factories.contract(client_user, worker, state="accepted")
    return ReviewWindow.objects.get(contract=contract)

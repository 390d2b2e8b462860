from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def clock():
    """Frozen time: the test moves it explicitly."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def buyer(client_user):
    return client_user


@pytest.fixture
def seller(worker):
    return worker

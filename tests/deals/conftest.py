import pytest

from tests import factories
from tests.api.conftest import api_as  # noqa: F401 - the API client fixture, for the API twins here


@pytest.fixture
def open_deal(client_user, worker):
    """deal_open("contract" | "order") -> a deal in which the worker (seller) may ask to move the date:
    a funded contract, or an accepted (in_progress) order. The client_user is the client / buyer."""

    def make(kind: str):
        if kind == "contract":
            return factories.contract(client_user, worker, state="funded")
        return factories.order(client_user, worker, state="in_progress")

    return make

"""Fixtures for withdrawals: a worker who has earned money through a real contract, with a bank account."""

import json

import pytest
from django.test import Client

from anshin.core.money import tiered_fee
from anshin.payouts import services
from tests import factories

AMOUNT = 30_000
EARNED = AMOUNT - tiered_fee(AMOUNT)  # ¥24,000 on the worker's balance after one accepted contract

BANK = {
    "bank_name": "安心銀行", "bank_code": "0001", "branch_name": "本店営業部", "branch_code": "001",
    "account_type": "ordinary", "account_number": "1234567", "holder": "ヤマダ　ハナコ",
}


@pytest.fixture
def earned(client_user, worker):
    """The worker's available balance after one accepted ¥30,000 contract."""
    factories.contract(client_user, worker, "accepted", amount=AMOUNT)
    return EARNED


@pytest.fixture
def bank(worker):
    return services.bank_account_save(user=worker, data=BANK)


class Api:
    """JSON in, (status, body) out, with a fresh API token (PUT included)."""

    def __init__(self, user):
        from anshin.core.api_auth import token_create

        headers = {"Authorization": f"Bearer {token_create(user=user).key}"} if user else {}
        self.client = Client(headers=headers)

    def _call(self, method, path, data=None, **params):
        if method == "get":
            response = self.client.get(path, params)
        else:
            body = json.dumps(data) if data is not None else b""
            response = getattr(self.client, method)(path, body, content_type="application/json")
        return response.status_code, (json.loads(response.content) if response.content else None)

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, data=None):
        return self._call("post", path, data)

    def put(self, path, data):
        return self._call("put", path, data)


@pytest.fixture
def api(db):
    return Api

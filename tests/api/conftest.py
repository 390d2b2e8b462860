"""API test helpers: a client per user authenticated by an API token (obtained through POST /api/tokens)."""

import json

import pytest
from django.test import Client

PASSWORD = "pass-Anshin-2026"  # tests/conftest.py make_user


class ApiClient:
    """Thin wrapper: JSON in, (status, parsed JSON) out, with `Authorization: Bearer <token>`."""

    def __init__(self, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)

    def _parse(self, response):
        body = json.loads(response.content) if response.content else None
        return response.status_code, body

    def get(self, path, **params):
        return self._parse(self.client.get(path, params))

    def post(self, path, data=None):
        if data is None:
            return self._parse(self.client.post(path, b"", content_type="application/json"))
        return self._parse(self.client.post(path, json.dumps(data), content_type="application/json"))

    def patch(self, path, data):
        return self._parse(self.client.patch(path, json.dumps(data), content_type="application/json"))

    def delete(self, path):
        return self._parse(self.client.delete(path))

    def multipart(self, path, data):
        return self._parse(self.client.post(path, data))


def obtain_token(user) -> str:
    response = Client().post("/api/tokens", json.dumps({"email": user.email, "password": PASSWORD}),
                             content_type="application/json")
    assert response.status_code == 201, response.content
    return json.loads(response.content)["key"]


@pytest.fixture
def api_as(db):
    """api_as(user) -> ApiClient with a fresh token for user; api_as(None) -> anonymous."""

    def make(user):
        if user is None:
            return ApiClient(None)
        from anshin.core.api_auth import token_create

        return ApiClient(token_create(user=user).key)

    return make

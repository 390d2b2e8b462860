import pytest


@pytest.fixture
def api_as(db):
    """api_as(user) -> tests.api.conftest.ApiClient with a fresh token for `user`."""
    from anshin.core.api_auth import token_create
    from tests.api.conftest import ApiClient

    return lambda user: ApiClient(token_create(user=user).key)

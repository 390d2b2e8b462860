import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_top_page_speaks_japanese(new_page):
    page = new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("link", name="仕事を探す").first.is_visible()

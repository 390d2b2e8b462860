"""Listings (PRODUCT.md §3): create/edit/pause a service with options and a hearing sheet; the search is the
same Japanese substring search as jobs."""

import pytest

from anshin import rules
from anshin.core.errors import DomainError, NotFound
from anshin.orders import selectors
from anshin.orders import services as orders
from anshin.orders.models import HearingQuestion, Listing, ListingOption
from tests import factories

pytestmark = pytest.mark.django_db


def base(**over):
    data = dict(title="ロゴをデザインします", description="シンプルなロゴ", category="design", price=10_000,
                delivery_days=5, included_revisions=1, options=[], questions=[])
    data.update(over)
    return data


def test_a_listing_is_created_active_with_options_and_hearing_sheet_in_order(seller):
    listing = factories.listing(seller)
    assert listing.state == "active"
    assert [o.title for o in listing.options.all()] == ["特急対応"]
    assert [(q.kind, q.required) for q in listing.questions.all()] == [
        ("text", True), ("single", True), ("multiple", False)]
    assert listing.questions.all()[1].choices == ["シンプル", "ポップ", "高級感"]


@pytest.mark.parametrize(("over", "message"), [
    ({"price": rules.LISTING_MIN_PRICE - 1}, "価格は¥1,000以上"),
    ({"price": rules.MAX_AMOUNT + 1}, "価格は¥1,000以上¥10,000,000以下"),
    ({"price": "10000"}, "価格は"),
    ({"delivery_days": 0}, "お届け日数は1〜90日"),
    ({"delivery_days": rules.MAX_DELIVERY_DAYS + 1}, "お届け日数は1〜90日"),
    ({"included_revisions": rules.MAX_INCLUDED_REVISIONS + 1}, "修正回数は0〜10回"),
    ({"included_revisions": -1}, "修正回数は0〜10回"),
    ({"title": "  "}, "タイトルを入力してください"),
    ({"title": "あ" * 101}, "タイトルは100文字以内"),
    ({"description": ""}, "サービス内容を入力してください"),
    ({"category": "cooking"}, "カテゴリを選択してください"),
    ({"options": [{"title": "", "price": 1000}]}, "オプション1の名前を入力してください"),
    ({"options": [{"title": "特急", "price": -1}]}, "オプション1の追加料金"),
    ({"questions": [{"kind": "single", "text": "色", "choices": ["赤"]}]}, "異なる選択肢を2つ以上"),
    ({"questions": [{"kind": "multiple", "text": "色", "choices": ["赤", "赤", " "]}]}, "異なる選択肢を2つ以上"),
    ({"questions": [{"kind": "essay", "text": "色"}]}, "質問1の形式"),
    ({"questions": [{"kind": "text", "text": ""}]}, "質問1を入力してください"),
])
def test_bad_listing_input_is_refused_in_japanese_and_nothing_is_saved(seller, over, message):
    with pytest.raises(DomainError) as error:
        orders.listing_create(user=seller, **base(**over))
    assert message in error.value.message
    assert not Listing.objects.exists()
    assert not HearingQuestion.objects.exists()


def test_editing_replaces_options_and_questions_but_orders_keep_their_snapshot(buyer, seller):
    listing = factories.listing(seller)
    order = factories.order(buyer, seller, a_listing=listing, option_ids=[listing.options.get().pk])
    orders.listing_update(listing_id=listing.pk, user=seller, **base(
        price=20_000, title="ロゴ（改訂）", options=[{"title": "商用利用", "price": 5_000, "extra_days": 2}],
        questions=[{"kind": "text", "text": "会社名", "required": True}]))
    listing.refresh_from_db()
    assert listing.price == 20_000
    assert [o.title for o in ListingOption.objects.filter(listing=listing)] == ["商用利用"]
    assert [q.text for q in listing.questions.all()] == ["会社名"]
    order.refresh_from_db()
    assert (order.title, order.subtotal, order.options[0]["title"]) == ("ロゴをデザインします", 13_000, "特急対応")
    assert [a.question for a in order.answers.all()][0] == "ご依頼の内容を教えてください"


def test_only_the_seller_or_an_operator_edits_or_pauses(seller, stranger, operator):
    listing = factories.listing(seller)
    with pytest.raises(NotFound):
        orders.listing_update(listing_id=listing.pk, user=stranger, **base(price=1_000))
    with pytest.raises(NotFound):
        orders.listing_transition(listing_id=listing.pk, user=stranger, action="pause")
    assert Listing.objects.get(pk=listing.pk).price == 10_000
    orders.listing_transition(listing_id=listing.pk, user=operator, action="pause")
    assert Listing.objects.get(pk=listing.pk).state == "paused"


def test_pause_hides_the_listing_from_search_and_strangers_resume_brings_it_back(seller, stranger):
    listing = factories.listing(seller)
    orders.listing_transition(listing_id=listing.pk, user=seller, action="pause")
    assert list(selectors.listing_search()) == []
    with pytest.raises(NotFound):
        selectors.listing_get(listing_id=listing.pk, user=stranger)
    with pytest.raises(NotFound):
        selectors.listing_get(listing_id=listing.pk)
    assert selectors.listing_get(listing_id=listing.pk, user=seller).state == "paused"
    with pytest.raises(DomainError) as error:
        orders.listing_transition(listing_id=listing.pk, user=seller, action="pause")
    assert error.value.code == "not_allowed"
    listing.refresh_from_db()
    assert [t.action for t in selectors.listing_actions(listing=listing, user=seller)] == ["resume"]
    assert selectors.listing_actions(listing=listing, user=stranger) == []
    orders.listing_transition(listing_id=listing.pk, user=seller, action="resume")
    assert list(selectors.listing_search()) == [listing]
    assert list(selectors.listings_of(seller=seller)) == [listing]


def test_search_is_japanese_substring_over_title_and_description_with_filters_and_sorts(seller, make_user):
    other = make_user("other")
    logo = factories.listing(seller, title="ロゴをデザインします", price=10_000)
    article = factories.listing(seller, title="SEO記事を書きます", description="1記事3000文字のブログ記事",
                                category="writing", price=5_000)
    photo = factories.listing(other, title="写真のレタッチ", description="ブログ用の写真を補正", category="video",
                              price=30_000)
    assert list(selectors.listing_search(q="デザイン")) == [logo]
    assert list(selectors.listing_search(q="ブログ")) == [photo, article]  # newest first
    assert list(selectors.listing_search(q="ブログ　記事")) == [article]  # full-width space splits words too
    assert list(selectors.listing_search(q="seo")) == [article]
    assert list(selectors.listing_search(category="writing")) == [article]
    assert list(selectors.listing_search(price_min=6_000, price_max=20_000)) == [logo]
    assert list(selectors.listing_search(sort="price_low")) == [article, logo, photo]
    assert list(selectors.listing_search(sort="price_high")) == [photo, logo, article]
    assert list(selectors.listing_search(q="存在しない語")) == []

"""The Japanese substring search (anshin.core.search): on PostgreSQL a word is narrowed by the n-gram GIN index,
then checked by `icontains`, so the results must be exactly the plain `icontains` results on both databases —
for 1-character, 2-character and longer words, full-width and ASCII, across fields."""

from functools import reduce
from operator import or_

import pytest
from django.db import connection
from django.db.models import Q

from anshin.jobs import selectors as jobs
from anshin.jobs.models import Job
from anshin.orders import selectors as orders
from anshin.orders.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

TEXTS = [
    ("記事に写真を挿入する業務", "WordPressの記事10本", "WordPress,SEO"),
    ("ロゴ制作", "シンプルなロゴをお願いします", "Illustrator"),
    ("マニュアルの翻訳", "英語から日本語へ。１００％正確に", "英語"),
    ("データ入力", "Ｅｘｃｅｌでのデータ入力作業です", "Excel"),
    ("動画編集", "YouTube用の動画を編集", "Premiere_Pro"),
]
WORDS = ["記事", "記", "ロゴ", "データ入力", "wordpress", "WORDPRESS", "seo", "Ｅｘｃｅｌ", "excel", "１００％", "％",
         "_", "e_P", "本", "語へ", "翻訳 英語", "動画　編集", "存在しない語", "ゴ制", "制作を"]


def icontains_ids(model, queryset, word_string, fields):
    """What the search promises: every word in one of the fields, by plain `icontains`."""
    for word in word_string.split():
        queryset = queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": word}) for f in fields)))
    return sorted(queryset.values_list("pk", flat=True))


@pytest.fixture
def corpus(client_user, worker):
    for title, description, skills in TEXTS:
        factories.job(client_user, title=title, description=description, skills=skills)
        factories.listing(worker, title=title, description=description + skills, questions=[])


@pytest.mark.parametrize("words", WORDS)
def test_job_search_finds_exactly_the_icontains_matches(corpus, words):
    expected = icontains_ids(Job, Job.objects.filter(state="open"), words, ("title", "description", "skills"))
    assert sorted(job.pk for job in jobs.job_search(q=words)) == expected


@pytest.mark.parametrize("words", WORDS)
def test_listing_search_finds_exactly_the_icontains_matches(corpus, words):
    expected = icontains_ids(Listing, Listing.objects.filter(state="active"), words, ("title", "description"))
    assert sorted(listing.pk for listing in orders.listing_search(q=words)) == expected


def test_one_and_two_character_words_find_the_right_jobs(corpus):
    assert [j.title for j in jobs.job_search(q="訳")] == ["マニュアルの翻訳"]
    assert [j.title for j in jobs.job_search(q="ロゴ")] == ["ロゴ制作"]
    assert [j.title for j in jobs.job_search(q="seo")] == ["記事に写真を挿入する業務"]  # skills, any case


def test_application_counts_are_per_job_and_cost_no_extra_query_per_row(client_user, make_user,
                                                                       django_assert_max_num_queries):
    busy = factories.job(client_user, title="応募の多い仕事")
    factories.job(client_user, title="静かな仕事")
    for i in range(3):
        factories.application(client_user, make_user(f"w{i}"), job=busy)
    with django_assert_max_num_queries(2):  # the page, its clients
        counts = {j.title: (j.application_count, j.client.pk) for j in jobs.job_search(q="仕事")}
    assert counts == {"応募の多い仕事": (3, client_user.pk), "静かな仕事": (0, client_user.pk)}


# --- PostgreSQL: the n-gram functions and the indexes they serve -----------------------------------------


def sql(query, *params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_anshin_grams_are_the_distinct_upper_cased_1_and_2_character_substrings_of_each_field():
    grams = sql("SELECT anshin_grams(%s, %s, NULL)", "ロゴab", "ＳＥＯ x")
    assert sorted(grams) == sorted(["ロ", "ゴ", "A", "B", "ロゴ", "ゴA", "AB",
                                    "Ｓ", "Ｅ", "Ｏ", " ", "X", "ＳＥ", "ＥＯ", "Ｏ ", " X"])  # no "BＳ": per field
    assert sql("SELECT anshin_grams(%s)", "") == []


@pytest.mark.postgres
def test_a_word_needs_its_2_character_substrings_or_itself_when_it_is_one_character():
    assert sorted(sql("SELECT anshin_word_grams(%s)", "データ入力")) == sorted(["デー", "ータ", "タ入", "入力"])
    assert sql("SELECT anshin_word_grams(%s)", "訳") == ["訳"]
    assert sorted(sql("SELECT anshin_word_grams(%s)", "seo")) == ["EO", "SE"]


@pytest.mark.postgres
@pytest.mark.parametrize("search, index", [(lambda: jobs.job_search(q="記事"), "jobs_job_search_grams"),
                                           (lambda: orders.listing_search(q="記事"), "orders_listing_search_grams")])
def test_the_search_expression_is_the_indexed_one(search, index):
    """If the fields or their order drift from the migration's index, PostgreSQL silently scans: catch it."""
    with connection.cursor() as cursor:
        # The tables are tiny: make every other path look dear, so only a usable index shows up in the plan.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
                       "SET LOCAL cpu_operator_cost = 10")
        query, params = search().query.sql_with_params()
        cursor.execute("EXPLAIN " + query, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan

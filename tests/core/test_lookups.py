"""`__in` (anshin/core/lookups.py): on PostgreSQL a list of integers or texts travels as one array parameter;
on every database the rows found are the ones Django's IN finds — texts with quotes, braces, commas and
backslashes, foreign keys by object or pk, NULLs, duplicates, empty lists and exclusions included."""

import pytest
from django.db.models import Q

from anshin.accounts.models import User
from anshin.ledger.models import Account
from anshin.ledger.services import account_get_or_create

pytestmark = pytest.mark.django_db

ODD_CODES = ["user:1:balance", 'quote"d', "it's", "{braces}", "a,b", "back\\slash", "", "日本語 スペース", "NULL"]


@pytest.fixture
def accounts():
    return [account_get_or_create(code) for code in ODD_CODES]


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_texts_match_exactly_whatever_they_contain(accounts):
    for code in ODD_CODES:
        assert codes(Account.objects.filter(code__in=[code, "absent"])) == {code}
    assert codes(Account.objects.filter(code__in=ODD_CODES)) == set(ODD_CODES)
    assert codes(Account.objects.filter(code__in=["NULL", "NULL", None])) == {"NULL"}  # None is not the text NULL
    assert codes(Account.objects.exclude(code__in=ODD_CODES[1:])) & set(ODD_CODES) == {ODD_CODES[0]}


def test_integers_and_foreign_keys_by_object_or_pk(make_user):
    people = [make_user() for _ in range(4)]
    pks = [p.pk for p in people]
    assert set(User.objects.filter(pk__in=pks[:2] + pks[:1])) == set(people[:2])
    assert set(User.objects.filter(pk__in=[pks[3], None, 10**12])) == {people[3]}
    mine = [account_get_or_create(f"user:{p.pk}:balance") for p in people]
    for person, account in zip(people, mine, strict=True):
        Account.objects.filter(pk=account.pk).update(user=person)
    assert codes(Account.objects.filter(user__in=people[1:3])) == {mine[1].code, mine[2].code}
    assert codes(Account.objects.filter(user_id__in=pks[1:3])) == {mine[1].code, mine[2].code}
    assert codes(Account.objects.filter(user__in=people).exclude(user__in=people[:3])) == {mine[3].code}


def test_an_empty_list_finds_nothing_and_excludes_nothing(accounts):
    assert not Account.objects.filter(code__in=[]).exists()
    assert not Account.objects.filter(code__in=[None]).exists()
    assert codes(Account.objects.filter(Q(code__in=[]) | Q(code="it's"))) == {"it's"}
    assert codes(Account.objects.exclude(code__in=[])) >= set(ODD_CODES)


def test_other_values_keep_djangos_in(make_user):
    people = [make_user(is_staff=True), make_user()]
    assert set(User.objects.filter(is_staff__in=[True])) == {people[0]}  # booleans are ints in Python
    joined = [p.date_joined for p in people]
    assert set(User.objects.filter(date_joined__in=joined)) == set(people)


@pytest.mark.postgres
def test_postgresql_gets_one_array_parameter_not_one_placeholder_per_value(accounts):
    sql, params = Account.objects.filter(code__in=ODD_CODES, pk__in=range(1, 501)).query.sql_with_params()
    assert sql.count("= ANY(%s)") == 2 and "IN (" not in sql
    assert list(params) == [ODD_CODES, list(range(1, 501))]
    sql, _ = User.objects.filter(is_staff__in=[True]).query.sql_with_params()
    assert "IN (%s)" in sql

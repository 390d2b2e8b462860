"""Yen and the tiered platform fee (PRODUCT.md §8): 20% up to ¥100,000, 10% up to ¥200,000, 5% above,
computed slice by slice and rounded down once, in the payer's favour."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anshin import rules
from anshin.core.money import tiered_fee, yen


@pytest.mark.parametrize(("amount", "fee"), [
    (0, 0),
    (1, 0),
    (4, 0),
    (5, 1),
    (1_000, 200),
    (99_999, 19_999),
    (100_000, 20_000),
    (100_001, 20_000),
    (100_010, 20_001),
    (150_000, 25_000),
    (200_000, 30_000),
    (200_020, 30_001),
    (300_000, 35_000),
    (1_000_000, 70_000),
    (rules.MAX_AMOUNT, 30_000 + (rules.MAX_AMOUNT - 200_000) * 5 // 100),
])
def test_tiered_fee(amount, fee):
    assert tiered_fee(amount) == fee


def test_negative_amounts_have_no_fee():
    with pytest.raises(ValueError):
        tiered_fee(-1)


amounts = st.integers(min_value=0, max_value=10**10)


@given(amounts, amounts)
def test_fee_is_monotone_and_net_never_negative(a, b):
    low, high = sorted((a, b))
    assert tiered_fee(low) <= tiered_fee(high)
    assert low - tiered_fee(low) <= high - tiered_fee(high)  # earning more never nets less
    for amount in (low, high):
        fee = tiered_fee(amount)
        assert 0 <= fee <= amount * 20 // 100
        assert amount - fee >= 0


@given(amounts)
def test_one_more_yen_costs_at_most_one_more_yen_of_fee(amount):
    assert tiered_fee(amount + 1) - tiered_fee(amount) in (0, 1)


@given(st.integers(min_value=200_000, max_value=10**10))
def test_above_two_hundred_thousand_the_fee_is_thirty_thousand_plus_five_percent(amount):
    assert tiered_fee(amount) == 30_000 + (amount - 200_000) * 5 // 100


def test_yen_formatting():
    assert yen(12_000) == "¥12,000"
    assert yen(0) == "¥0"
    assert yen(10_000_000) == "¥10,000,000"

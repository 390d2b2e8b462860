"""Money is integer yen. Fees are computed slice by slice and rounded down in the payer's favour."""

from anshin import rules


def yen(amount: int) -> str:
    return f"¥{amount:,}"


def tiered_fee(amount: int, tiers=rules.CONTRACT_FEE_TIERS) -> int:
    """Platform fee on a release: 20% of the part ≤ ¥100,000, 10% up to ¥200,000, 5% above."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    hundredths = 0  # sum of slice × percent, divided once at the end so rounding happens once
    lower = 0
    for upper, percent in tiers:
        top = amount if upper is None else min(amount, upper)
        if top > lower:
            hundredths += (top - lower) * percent
        if upper is None or amount <= upper:
            break
        lower = upper
    return hundredths // 100

"""Amounts as the API reads and writes them: exact decimals, never floats."""

from __future__ import annotations

from decimal import Decimal

MAX_AMOUNT = Decimal(10) ** 12
ZERO = Decimal(0)


def decimal_places(amount: Decimal) -> int:
    """Decimal places of an amount as it was sent: ``"100.00"`` has 2, ``1E+2`` has 0."""
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def plain(amount: Decimal) -> str:
    """An amount as the API echoes it in messages: positional, as sent."""
    return f"{amount:f}"


def balance_text(balance: Decimal) -> str:
    """Balances are strings with exactly three decimals, e.g. ``"670.000"``."""
    return f"{balance.quantize(Decimal('0.001')):f}"

"""Largest-remainder splits in integer minor units: the parts always add up to the whole.

Each part is the floor of its exact share, and the units left over go, one each, to the parts
with the largest fractional remainders (ties: the earlier part). So every part is within one
minor unit of its exact share, a zero weight gets zero, and the same input always gives the
same output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


class SplitError(ValueError):
    """Weights that cannot split anything: negative, or all zero for a non-zero total."""


def _fraction(weight: int | Decimal | Fraction) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal | Fraction):
        raise SplitError("weights must be integers or Decimals")
    if isinstance(weight, int):
        if weight < 0:
            raise SplitError("weights cannot be negative")
        return Fraction(weight)
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise SplitError("weights must be finite")
    value = Fraction(weight)
    if value < 0:
        raise SplitError("weights cannot be negative")
    return value


def split(total: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split `total` minor units in proportion to `weights` (largest-remainder method)."""
    if isinstance(total, bool) or not isinstance(total, int):
        raise SplitError("the total must be an integer number of minor units")
    if not weights:
        if total:
            raise SplitError("nothing to split the amount across")
        return []
    if all(type(w) is int and w >= 0 for w in weights):
        ints = list(weights)  # the common case (days, minor units): no Fractions needed
    else:
        exact = [_fraction(w) for w in weights]
        # Scale the weights to integers: shares are then total·w / Σw in exact integer
        # arithmetic (remainders compared as integers over the same denominator).
        scale = math.lcm(*(f.denominator for f in exact))
        ints = [f.numerator * (scale // f.denominator) for f in exact]
    whole = sum(ints)
    if whole == 0:
        if total:
            raise SplitError("at least one weight must be above zero")
        return [0] * len(ints)
    if total < 0:
        return [-part for part in split(-total, weights)]
    pairs = [divmod(total * w, whole) for w in ints]
    parts = [q for q, _ in pairs]
    left = total - sum(parts)
    # Largest remainder first; the index breaks ties so the result is deterministic.
    order = sorted(range(len(pairs)), key=lambda i: (-pairs[i][1], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def split_by_percentages(total: int, percentages: Sequence[Decimal]) -> list[int]:
    """Like `split`, but the percentages must add up to exactly 100."""
    values = [Decimal(p) for p in percentages]
    if any(v < 0 for v in values):
        raise SplitError("percentages cannot be negative")
    added = sum(values, Decimal(0))
    if added != 100:
        raise SplitError(f"the percentages add up to {added.normalize():f}%, not 100%")
    return split(total, values)

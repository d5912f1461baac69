"""How numbers read in the report: the jinja filters every template uses.

Every filter accepts None and NaN (a statistic that could not be measured) and shows them as
``n/a``, so a template never has to test for missing values before formatting one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, Final

MISSING: Final = "n/a"


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is missing, NaN or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def num(value: Any, digits: int = 3) -> str:
    """``0.438`` (``digits`` decimals); ``n/a`` when missing.

    >>> num(0.43751), num(None), num(float("nan")), num(12, 0)
    ('0.438', 'n/a', 'n/a', '12')
    """
    number = _number(value)
    return MISSING if number is None else f"{number:.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage: ``43.8%``; ``n/a`` when missing.

    >>> pct(0.4375), pct(None)
    ('43.8%', 'n/a')
    """
    number = _number(value)
    return MISSING if number is None else f"{number * 100:.{digits}f}%"


def interval(estimate: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``0.438 [0.262, 0.631]``; just ``n/a`` when the estimate is missing.

    >>> interval(0.5, 0.25, 0.75, 2), interval(None, 0.1, 0.2)
    ('0.50 [0.25, 0.75]', 'n/a')
    """
    if _number(estimate) is None:
        return MISSING
    return f"{num(estimate, digits)} [{num(low, digits)}, {num(high, digits)}]"


def signed(value: Any, digits: int = 2) -> str:
    """A difference with its sign: ``+0.19``.

    >>> signed(0.192), signed(-0.05), signed(None)
    ('+0.19', '-0.05', 'n/a')
    """
    number = _number(value)
    return MISSING if number is None else f"{number:+.{digits}f}"


def pvalue(value: Any) -> str:
    """A p-value: 3 significant digits, ``<0.0001`` below that.

    >>> pvalue(0.0093553), pvalue(3e-06), pvalue(None)
    ('0.00936', '<0.0001', 'n/a')
    """
    number = _number(value)
    if number is None:
        return MISSING
    return "<0.0001" if number < 1e-4 else f"{number:.3g}"


def count(value: Any) -> str:
    """A whole number with thousands separators: ``12,345``.

    >>> count(12345), count(None)
    ('12,345', 'n/a')
    """
    number = _number(value)
    return MISSING if number is None else f"{round(number):,}"


def money(value: Any) -> str:
    """US dollars: 4 decimals below $100 (model calls are cheap), 2 above.

    >>> money(0.00123), money(1234.5), money(None)
    ('$0.0012', '$1,234.50', 'n/a')
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"${number:,.2f}" if abs(number) >= 100 else f"${number:.4f}"


def duration(seconds: Any) -> str:
    """``58.3 s``, ``4 min 05 s``, ``2 h 03 min``.

    >>> duration(58.26), duration(245), duration(7385), duration(None)
    ('58.3 s', '4 min 05 s', '2 h 03 min', 'n/a')
    """
    number = _number(seconds)
    if number is None or number < 0:
        return MISSING
    if number < 60:
        return f"{number:.1f} s"
    minutes, secs = divmod(round(number), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def timestamp(value: Any) -> str:
    """A Unix time as ``2026-11-25 16:28:15 UTC``.

    >>> timestamp(1_700_000_000)
    '2023-11-14 22:13:20 UTC'
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{dt.datetime.fromtimestamp(number, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


FILTERS: Final[dict[str, Callable[..., str]]] = {
    "num": num,
    "pct": pct,
    "interval": interval,
    "signed": signed,
    "pvalue": pvalue,
    "count": count,
    "money": money,
    "duration": duration,
    "timestamp": timestamp,
}

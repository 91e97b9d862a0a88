"""Number formats for report pages: p-values, proportions and missing values read the same way
on every table."""

import math

from django import template

register = template.Library()
MISSING = "–"


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@register.filter
def num(value, digits: int = 3) -> str:
    """A number with ``digits`` decimals; a dash when missing."""
    number = _number(value)
    return MISSING if number is None else f"{number:.{int(digits)}f}"


@register.filter
def cell(value) -> str:
    """A cell of a table whose columns the page does not know: text as it is, whole numbers
    (counts) without decimals, other numbers to three."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return num(value)


@register.filter
def signed(value, digits: int = 3) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:+.{int(digits)}f}"


@register.filter
def pvalue(value) -> str:
    """p-values as journals print them: three decimals, '<0.001' below that."""
    number = _number(value)
    if number is None:
        return MISSING
    return "<0.001" if number < 0.001 else f"{number:.3f}"


@register.filter
def percent(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{100 * number:.1f}%"


@register.filter
def points(value) -> str:
    """A difference of two proportions in signed percentage points (0.034 -> '+3.4'), so it reads
    in the same unit as the percentages beside it."""
    number = _number(value)
    return MISSING if number is None else f"{100 * number:+.1f}"


@register.filter
def p_is(value) -> str:
    """'p = 0.012' or 'p < 0.001' for running text, where 'p = <0.001' would read oddly."""
    number = _number(value)
    if number is None:
        return f"p {MISSING}"
    return "p < 0.001" if number < 0.001 else f"p = {number:.3f}"

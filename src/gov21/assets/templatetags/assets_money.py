"""Money held as whole cents, shown as an amount with two decimals and thousands grouped."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def cents(value: int | None) -> str:
    if value is None:
        return "–"
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(int(value)), 100)
    return f"{sign}{whole:,}.{part:02d}"

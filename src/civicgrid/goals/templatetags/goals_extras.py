from django import template

from civicgrid.goals import exports

register = template.Library()


@register.filter
def num(value):
    """A figure as the report prints it (at most two decimals, no trailing zeros; none → —)."""
    return exports.num(value)


@register.filter
def pct(value):
    return exports.pct(value)


@register.filter
def get_count(counts, key):
    return (counts or {}).get(key, 0)

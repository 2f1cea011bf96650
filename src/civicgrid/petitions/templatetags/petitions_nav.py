"""``{% sees_petitions user as flag %}``: whether the menu shows 信访 (the 信访办 and leaders)."""

from django import template

register = template.Library()


@register.simple_tag
def sees_petitions(user) -> bool:
    from civicgrid.petitions.selectors import sees_ledger

    return bool(getattr(user, "is_authenticated", False)) and sees_ledger(user)

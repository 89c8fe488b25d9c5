"""`{% shopper_part "name" %}`: a part of a page that is one shopper's own (core/shopper_parts)."""

from django import template
from django.template import Context
from django.utils.safestring import SafeString

from monolith.core.shopper_parts import PARTS, shopper_part_shared

register = template.Library()


@register.simple_tag(takes_context=True)
def shopper_part(context: Context, name: str) -> SafeString:
    """The part as a guest with nothing of their own sees it; the middleware fills in the
    shopper's own on the way out."""
    return shopper_part_shared(PARTS[name], context)

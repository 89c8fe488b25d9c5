from django.http import HttpRequest

from .selectors import cart_for_request, cart_item_count


def mini_cart(request: HttpRequest) -> dict[str, int]:
    """The header's item count; one query when a cart exists, none otherwise."""
    if not hasattr(request, "session"):
        return {"cart_item_count": 0}
    return {"cart_item_count": cart_item_count(cart_for_request(request))}

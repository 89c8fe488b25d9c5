from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from .selectors import cart_item_count_for_request


def mini_cart(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """The header's item count, computed only if a template shows it (full pages, the mini-cart).

    Templates call callables, so htmx fragments that never show the count never query for it.
    """

    @cache
    def count() -> int:
        if not hasattr(request, "session"):
            return 0
        return cart_item_count_for_request(request)

    return {"cart_item_count": count}

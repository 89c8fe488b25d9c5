"""Catalog pages: the product listing (search, filter, sort, pages) and a product page.

Each page is cached whole per catalog version and canonical URL (page_cache.py) and built
only on a miss; it is the same for every shopper, signed in or not, because what is a
shopper's own (the header's account links and mini cart, messages, the CSRF token) is filled
in on the way out (core/shopper_parts.py, core/csrf_token_slot.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .models import Product
from .page_cache import ShopperPage, listing_count, whole_page_cached
from .selectors import SORT_LABELS, CatalogQuery, category_list, product_get, product_list

# Words of a product's description in its page's meta description.
DESCRIPTION_WORDS = 30


class CountedPaginator(Paginator):
    """A paginator told its total (cached by page_cache) instead of counting it itself."""

    def __init__(self, object_list: QuerySet[Product], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


# Every response carries this shopper's CSRF token, cart count and login: never for shared caches.
PER_SHOPPER = cache_control(private=True)


def _shopper_page_response(
    request: HttpRequest, *, url: str, build: Callable[[], ShopperPage]
) -> HttpResponse:
    """The page at this canonical URL as every shopper gets it, from the cache; built and
    rendered on a miss (`build` may raise Http404: nothing is cached then)."""

    def page_render() -> bytes:
        return render(request, "catalog/shopper_page.html", {"page": build()}).content

    return HttpResponse(whole_page_cached(request=request, url=url, render=page_render))


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page") or 1)
    except ValueError as error:
        raise Http404("That page number is not a number.") from error


@require_GET
@PER_SHOPPER
def product_list_page(request: HttpRequest) -> HttpResponse:
    """One page of active products matching the shopper's search, category and sort."""
    query = CatalogQuery(
        search=request.GET.get("q", "").strip(),
        category=request.GET.get("category", "").strip(),
        sort=request.GET.get("sort", "").strip(),
    )
    number = _page_number(request)
    params = QueryDict(mutable=True)
    params.update(query.url_params(page=number))
    # The path is the listing's own (its one route): only the query needs putting in order.
    url = request.path + (f"?{params.urlencode()}" if params else "")
    return _shopper_page_response(
        request, url=url, build=lambda: _product_list_build(request, query, number, params, url)
    )


def _product_list_build(
    request: HttpRequest, query: CatalogQuery, number: int, params: QueryDict, url: str
) -> ShopperPage:
    products = product_list(query=query)
    paginator = CountedPaginator(
        products,
        settings.TESSERA_CATALOG_PAGE_SIZE,
        count=listing_count(category=query.category, search=query.search, count=products.count),
    )
    try:
        page = paginator.page(number)
    except InvalidPage as error:
        raise Http404(str(error)) from error
    categories = list(category_list())
    active_category = next((c for c in categories if c.slug == query.category), None)
    content = render_to_string(
        "catalog/product_list.html",
        {
            "query": query,
            "listing_params": params,
            "page_url": url,
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
            "products": page.object_list,
            "categories": categories,
            "active_category": active_category,
            "sort_options": SORT_LABELS.items(),
        },
        request=request,
    )
    if query.search:
        title = f"“{query.search}”"
    else:
        title = active_category.name if active_category else "Shop"
    return ShopperPage(title=title, content=mark_safe(content))  # noqa: S308 (rendered markup)


@require_GET
@PER_SHOPPER
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A product page with its images, description, price, stock and an add-to-cart form."""
    url = request.path  # the route's slug is canonical as it was asked for
    return _shopper_page_response(
        request, url=url, build=lambda: _product_detail_build(request, slug, url)
    )


def _product_detail_build(request: HttpRequest, slug: str, url: str) -> ShopperPage:
    try:
        product = product_get(slug=slug)
    except Product.DoesNotExist as error:
        raise Http404("No such product.") from error
    content = render_to_string(
        "catalog/product_detail.html", {"product": product, "page_url": url}, request=request
    )
    return ShopperPage(
        title=product.name,
        description=Truncator(product.description).words(DESCRIPTION_WORDS, truncate=" …"),
        content=mark_safe(content),  # noqa: S308 (rendered markup)
    )

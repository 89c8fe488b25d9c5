"""Catalog pages: the product listing (search, filter, sort, pages) and a product page."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .listing_cache import listing_count, listing_page_ids
from .models import Product
from .selectors import (
    SORT_LABELS,
    CatalogQuery,
    category_list,
    product_get,
    product_list,
    products_by_ids,
)


class CountedPaginator(Paginator):
    """A paginator told its total (cached by listing_cache) instead of counting it itself."""

    def __init__(self, object_list: QuerySet[Product], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


# Every page carries this shopper's CSRF token, cart count and login: never for shared caches.
PER_SHOPPER = cache_control(private=True)


@require_GET
@PER_SHOPPER
def product_list_page(request: HttpRequest) -> HttpResponse:
    """One page of active products matching the shopper's search, category and sort."""
    query = CatalogQuery(
        search=request.GET.get("q", "").strip(),
        category=request.GET.get("category", "").strip(),
        sort=request.GET.get("sort", "").strip(),
    )
    products = product_list(query=query)
    paginator = CountedPaginator(
        products,
        settings.TESSERA_CATALOG_PAGE_SIZE,
        count=listing_count(category=query.category, search=query.search, count=products.count),
    )
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage as error:
        raise Http404(str(error)) from error
    first = (page.number - 1) * paginator.per_page
    sliced = products[first : first + paginator.per_page]
    ids = listing_page_ids(
        category=query.category,
        search=query.search,
        sort=query.effective_sort,
        page=page.number,
        ids=lambda: list(sliced.values_list("pk", flat=True)),
    )
    page.object_list = products_by_ids(ids)
    categories = list(category_list())
    return render(
        request,
        "catalog/product_list.html",
        {
            "query": query,
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
            "products": page.object_list,
            "categories": categories,
            "active_category": next((c for c in categories if c.slug == query.category), None),
            "sort_options": SORT_LABELS.items(),
        },
    )


@require_GET
@PER_SHOPPER
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A product page with its images, description, price, stock and an add-to-cart form."""
    try:
        product = product_get(slug=slug)
    except Product.DoesNotExist as error:
        raise Http404("No such product.") from error
    return render(request, "catalog/product_detail.html", {"product": product})

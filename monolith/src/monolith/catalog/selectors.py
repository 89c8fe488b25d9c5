"""Reads of the catalog: listing, search, filter, sort, and a product page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import F, Prefetch, Q, QuerySet

from .models import Category, Product, ProductImage

# The same expression is indexed with GIN by migration 0002 on PostgreSQL, so keep them equal.
SEARCH_CONFIG = "english"
SEARCH_VECTOR = SearchVector("name", "description", config=SEARCH_CONFIG)

SORT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "newest": ("-created_at", "-id"),
}
SORT_LABELS = {
    "relevance": "Best match",
    "name": "Name",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "newest": "Newest",
}


@dataclass(frozen=True)
class CatalogQuery:
    """What the shopper asked the catalog for; unknown sorts fall back to the default."""

    search: str = ""
    category: str = ""
    sort: str = ""

    @property
    def effective_sort(self) -> str:
        if self.sort in SORT_ORDERINGS or (self.sort == "relevance" and self.search):
            return self.sort
        return self.default_sort

    @property
    def default_sort(self) -> str:
        return "relevance" if self.search else "name"

    def url_params(self, *, page: int = 1) -> dict[str, str]:
        """The query string asking for this page, defaults left out: one per distinct page."""
        params = {"q": self.search, "category": self.category}
        if self.effective_sort != self.default_sort:
            params["sort"] = self.effective_sort
        if page != 1:
            params["page"] = str(page)
        return {name: value for name, value in params.items() if value}


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def _with_images(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("category").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )


def _search(queryset: QuerySet[Product], text: str) -> tuple[QuerySet[Product], bool]:
    """Full-text search on PostgreSQL, a word-by-word substring match elsewhere.

    Returns the filtered queryset and whether it carries a relevance `rank` annotation.
    """
    if connections[queryset.db].vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        ranked = queryset.annotate(document=SEARCH_VECTOR).filter(document=query)
        return ranked.annotate(rank=SearchRank(F("document"), query)), True
    for word in text.split():
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(sku__iexact=word)
        )
    return queryset, False


def product_list(*, query: CatalogQuery) -> QuerySet[Product]:
    """Active products matching the query, in the requested order, images prefetched."""
    queryset: QuerySet[Product] = Product.objects.for_sale()
    if query.category:
        queryset = queryset.filter(category__slug=query.category)
    ranked = False
    if query.search.strip():
        queryset, ranked = _search(queryset, query.search.strip())
    sort = query.effective_sort
    if sort == "relevance":
        ordering: tuple[str, ...] = ("-rank", "name", "id") if ranked else SORT_ORDERINGS["name"]
    else:
        ordering = SORT_ORDERINGS[sort]
    return _with_images(queryset.order_by(*ordering))


def product_get(*, slug: str) -> Product:
    """The active product with this slug; raises Product.DoesNotExist otherwise."""
    return _with_images(Product.objects.for_sale()).get(slug=slug)


def product_for_sale_by_sku(*, sku: str) -> Product | None:
    """The product a shopper can buy under this SKU, if any."""
    return Product.objects.for_sale().filter(sku=sku).first()

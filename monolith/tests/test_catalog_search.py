import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection

from monolith.catalog.models import Product
from monolith.catalog.selectors import SEARCH_CONFIG, SEARCH_VECTOR, CatalogQuery, product_list

from .factories import make_category, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    kitchen, garden = make_category("Kitchen"), make_category("Garden")
    return {
        "red mug": make_product(category=kitchen, name="Red mug", price="9.00"),
        "blue mug": make_product(category=kitchen, name="Blue mug", price="11.00"),
        "teapot": make_product(category=kitchen, name="Stoneware teapot", price="30.00"),
        "trowel": make_product(category=garden, name="Garden trowel", price="14.00"),
        "hidden": make_product(category=garden, name="Hidden mug", is_active=False),
        "kitchen": kitchen,
    }


def names(query: CatalogQuery) -> list[str]:
    return [product.name for product in product_list(query=query)]


def test_search_finds_active_products_by_word(catalog):
    assert sorted(names(CatalogQuery(search="mug"))) == ["Blue mug", "Red mug"]


def test_search_with_several_words_needs_all_of_them(catalog):
    assert names(CatalogQuery(search="red mug")) == ["Red mug"]


def test_category_filter_and_price_sort(catalog):
    query = CatalogQuery(category=catalog["kitchen"].slug, sort="-price")
    assert names(query) == ["Stoneware teapot", "Blue mug", "Red mug"]


def test_an_unknown_sort_falls_back_to_name_order(catalog):
    assert names(CatalogQuery(sort="DROP TABLE")) == [
        "Blue mug",
        "Garden trowel",
        "Red mug",
        "Stoneware teapot",
    ]


@pytest.mark.postgres
def test_postgres_search_stems_words(catalog):
    # Full-text search matches "mugs" to "mug", which a substring match would not.
    assert sorted(names(CatalogQuery(search="mugs"))) == ["Blue mug", "Red mug"]


@pytest.mark.postgres
def test_search_uses_the_gin_index(catalog):
    # The search's own condition, without the listing's others: is_active has indexes of its
    # own, which the planner may prefer by statistics that other tests' rows have moved. With
    # sequential scans off, only an index on the very expression the selector searches can
    # serve this query.
    query = SearchQuery("teapot", search_type="websearch", config=SEARCH_CONFIG)
    searched = Product.objects.annotate(document=SEARCH_VECTOR).filter(document=query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = searched.explain()
    assert "product_search_gin_idx" in plan, plan

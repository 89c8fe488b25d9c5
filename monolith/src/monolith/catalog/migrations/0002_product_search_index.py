"""A GIN index for the catalog's full-text search, on PostgreSQL only.

The indexed expression must stay identical to `selectors.SEARCH_VECTOR` as Django compiles it,
or the planner cannot use the index; `test_search_uses_the_gin_index` guards that.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX_NAME = "product_search_gin_idx"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON catalog_product USING gin (
    to_tsvector('english'::regconfig, COALESCE(name, '') || ' ' || COALESCE(description, ''))
)
"""


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]

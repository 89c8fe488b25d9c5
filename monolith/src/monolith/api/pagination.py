from typing import Any

from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class StableCursorPagination(CursorPagination):
    """Cursor pages in the order the view chose, so pages never skip or repeat rows.

    The view puts its ordering (always ending on a unique column) in `view.cursor_ordering`.
    """

    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", ("-created_at", "-id")))

"""Work left waiting past its budget: the admin's filter and the `/metrics` gauge an alert reads.

An inbox event or a processing job that is not settled within its budget
(INBOX_EVENT_BUDGET_SECONDS, PROCESSING_JOB_BUDGET_SECONDS) is work the retries and sweeps
did not finish by themselves: staff look at it (the changelist's "Past its budget" filter)
and an alert fires on ``tessera_overdue > 0``. Each app says what overdue means for its rows
(its selectors); this module shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib import admin
from django.db import DatabaseError
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_Row = TypeVar("_Row", bound=Model)


def overdue_rows(
    rows: QuerySet[_Row], *, statuses: Collection[str], budget_seconds: float
) -> QuerySet[_Row]:
    """The rows still in one of ``statuses`` more than ``budget_seconds`` after they were
    created (``created_at``)."""
    created_before = timezone.now() - timedelta(seconds=budget_seconds)
    return rows.filter(status__in=statuses, created_at__lt=created_before)


def overdue_counts(overdue: QuerySet[Any], *, statuses: Collection[str]) -> dict[str, int]:
    """How many overdue rows are in each waiting status, zero included (an alert's series
    exists before its first overdue row)."""
    counts = dict.fromkeys(statuses, 0)
    counts.update(overdue.values_list("status").annotate(rows=Count("pk")).order_by())
    return counts


class OverdueListFilter(admin.SimpleListFilter):
    """ "Past its budget": the rows ``overdue()`` returns. Subclasses name their selector."""

    title = "waiting"
    parameter_name = "overdue"

    @staticmethod
    def overdue() -> QuerySet[Any]:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Past its budget")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset & self.overdue()
        return queryset


class OverdueGauge(Collector):
    """``tessera_overdue{kind,status}``, counted from the database at each scrape, and
    ``tessera_overdue_up`` (0 when the database did not answer: no stale numbers)."""

    def __init__(self, counts: Mapping[str, Callable[[], Mapping[str, int]]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        overdue = GaugeMetricFamily(
            "tessera_overdue",
            "Inbox events and processing jobs in a non-final status for longer than their "
            "budget (INBOX_EVENT_BUDGET_SECONDS, PROCESSING_JOB_BUDGET_SECONDS).",
            labels=["kind", "status"],
        )
        up = GaugeMetricFamily(
            "tessera_overdue_up", "1 when tessera_overdue was read from the database."
        )
        try:
            for kind, counts in self.counts.items():
                for status, rows in counts().items():
                    overdue.add_metric([kind, status], rows)
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield overdue
        yield up

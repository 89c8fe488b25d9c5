"""Reads of the webhook inbox."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from monolith.core.overdue import overdue_counts, overdue_rows

from .models import InboxEvent, InboxStatus

# An event in one of these is not settled yet: the worker, the sweep or a payment still owes
# it an outcome (dead-lettered ones wait for staff, and are counted by status, not budget).
INBOX_WAITING_STATUSES = (InboxStatus.RECEIVED, InboxStatus.FAILED, InboxStatus.PARKED)


def inbox_events_overdue() -> QuerySet[InboxEvent]:
    """Events still waiting INBOX_EVENT_BUDGET_SECONDS after they were recorded."""
    return overdue_rows(
        InboxEvent.objects.all(),
        statuses=INBOX_WAITING_STATUSES,
        budget_seconds=settings.INBOX_EVENT_BUDGET_SECONDS,
    )


def inbox_events_overdue_counts() -> dict[str, int]:
    """The overdue events by status."""
    return overdue_counts(inbox_events_overdue(), statuses=INBOX_WAITING_STATUSES)

"""Reads of the webhook inbox."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from monolith.core.overdue import overdue_counts

from .models import InboxEvent, InboxStatus

# An event in one of these is not settled yet: the worker, the sweep or a payment still owes
# it an outcome (dead-lettered ones wait for staff, and are counted by status, not budget).
INBOX_WAITING_STATUSES = (InboxStatus.RECEIVED, InboxStatus.FAILED, InboxStatus.PARKED)


def inbox_events_overdue() -> QuerySet[InboxEvent]:
    """Events still waiting INBOX_EVENT_BUDGET_SECONDS after they were recorded."""
    recorded_before = timezone.now() - timedelta(seconds=settings.INBOX_EVENT_BUDGET_SECONDS)
    return InboxEvent.objects.filter(
        status__in=INBOX_WAITING_STATUSES, created_at__lt=recorded_before
    )


def inbox_events_overdue_counts() -> dict[str, int]:
    """The overdue events by status."""
    return overdue_counts(inbox_events_overdue(), statuses=INBOX_WAITING_STATUSES)

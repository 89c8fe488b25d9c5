from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from monolith.core.overdue import OverdueListFilter

from .models import InboxEvent
from .selectors import inbox_events_overdue
from .services import inbox_event_replay

READ_ONLY_FIELDS = [
    "source",
    "event_id",
    "type",
    "subject",
    "status",
    "attempts",
    "duplicate_hits",
    "last_error",
    "received_at",
    "created_at",
    "updated_at",
    "applied_at",
    "traceparent",
    "tracestate",
    "payload",
]


class InboxEventOverdueFilter(OverdueListFilter):
    overdue = staticmethod(inbox_events_overdue)


@admin.register(InboxEvent)
class InboxEventAdmin(admin.ModelAdmin[InboxEvent]):
    list_display = [
        "event_id",
        "source",
        "type",
        "subject",
        "status",
        "attempts",
        "duplicate_hits",
        "last_error",
        "received_at",
    ]
    list_filter = [InboxEventOverdueFilter, "status", "source", "type"]
    search_fields = ["event_id", "subject", "last_error"]
    readonly_fields = READ_ONLY_FIELDS
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Events come from senders only; staff read and replay them.
        return False

    def has_change_permission(self, request: HttpRequest, obj: InboxEvent | None = None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inbox.change_inboxevent")

    @admin.action(description="Replay the selected events", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[InboxEvent]) -> None:
        for event in queryset:
            inbox_event_replay(inbox_event=event)
        self.message_user(
            request, f"{queryset.count()} event(s) queued for replay.", messages.SUCCESS
        )

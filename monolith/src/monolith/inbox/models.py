"""The webhook inbox: every event the functions queued, once per (source, event id)."""

from django.db import models


class InboxSource(models.TextChoices):
    PAYMENTS = "payments", "Payment provider"
    CARRIER = "carrier", "Carrier"


class InboxStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    APPLIED = "applied", "Applied"
    PARKED = "parked", "Parked"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed (will retry)"
    DEAD_LETTERED = "dead_lettered", "Dead-lettered"


class InboxEvent(models.Model):
    """One received webhook event and what became of it.

    The unique (source, event id) is what makes the consumer idempotent: a redelivered or
    re-sent event finds its row and only counts as a duplicate hit.
    """

    source = models.CharField(max_length=20, choices=InboxSource.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100, db_index=True)
    received_at = models.DateTimeField(help_text="When the webhook function received it")
    payload = models.JSONField()
    traceparent = models.CharField(max_length=55, blank=True)
    tracestate = models.CharField(max_length=512, blank=True)
    # The payment reference or order number the event is about: how parked events are found
    # again once what they wait for has happened.
    subject = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=InboxStatus.choices, default=InboxStatus.RECEIVED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    duplicate_hits = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inbox_event_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id} ({self.type})"

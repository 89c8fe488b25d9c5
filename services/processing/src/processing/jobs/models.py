"""A processing job: what to do, how far it got, and what it produced."""

import uuid
from typing import Any

from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"


TERMINAL_STATUSES = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DEAD_LETTERED}
)


class Job(models.Model):
    """One job, created once per Idempotency-Key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    idempotency_key = models.CharField(max_length=255, unique=True)
    # SHA-256 of the canonical request body: the same key with another body is a conflict.
    request_fingerprint = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_reference = models.CharField(max_length=64)
    input: models.JSONField[Any, Any] = models.JSONField()
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField()
    cancel_requested = models.BooleanField(default=False)
    result_locations: models.JSONField[Any, Any] = models.JSONField(default=list)
    error: models.JSONField[Any, Any] = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="job_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=JobStatus.values), name="job_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="job_max_attempts_positive"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class OutboxMessage(models.Model):
    """A message to publish, written in the same transaction as the change it announces.

    The broker can be down when a job is committed: the row outlives the failed publish and
    the relay (in every worker, and `manage.py outbox_relay`) publishes it once the broker is
    back. Published rows are deleted. The id is the Celery task id of every copy sent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_name = models.CharField(max_length=64)
    queue = models.CharField(max_length=64)
    payload: models.JSONField[Any, Any] = models.JSONField()
    # Celery options recorded with the message: soft_time_limit, time_limit.
    options: models.JSONField[Any, Any] = models.JSONField(default=dict)
    # A retry's backoff: the message is not run before this (sent as the task's eta).
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the relay may try next; a publisher holds it in the future while it publishes.
    next_publish_at = models.DateTimeField(db_index=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.id} on {self.queue}"

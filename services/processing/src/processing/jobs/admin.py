"""Staff view of jobs: filter by status (dead letters included) and replay them."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from processing.jobs.models import Job
from processing.jobs.services import JobNotReplayableError, job_replay


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ["id", "kind", "status", "attempts", "max_attempts", "progress", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["id", "idempotency_key", "subject_reference"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay the selected dead-lettered or failed jobs")
    def replay(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        replayed = 0
        for job in queryset:
            try:
                job_replay(job=job)
                replayed += 1
            except JobNotReplayableError:
                self.message_user(
                    request, f"Job {job.id} is {job.status}; not replayed.", messages.WARNING
                )
        self.message_user(request, f"{replayed} job(s) queued again.")

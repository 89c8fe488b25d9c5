"""Where processing jobs run: one interface, a placement per setting (PROCESSING_PLACEMENT).

- ``service``: the processing service's jobs API over HTTP (service_placement.py); its
  workers run the job and post the signed result back.
- ``inline``: the same job-kind code runs in this worker (inline_placement.py); no HTTP, no
  second database, the result is recorded by the same service function as the callback's.

The outbox, the relay, the sweep and the result handlers are the same in both; only the
submission of one outbox row differs, behind `JobPlacement`.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .models import ProcessingJob

PLACEMENTS = {
    "service": "monolith.jobs.service_placement.ServiceJobPlacement",
    "inline": "monolith.jobs.inline_placement.InlineJobPlacement",
}


class JobPlacement(Protocol):
    def job_submit(self, job: ProcessingJob) -> float | None:
        """Hand a pending outbox row to where jobs run; return the seconds until the row is
        due again (it stays pending with its backoff), or None once it left pending."""
        ...


_placements: dict[str, JobPlacement] = {}


def job_placement() -> JobPlacement:
    """The placement PROCESSING_PLACEMENT names (checked at start-up by the jobs app)."""
    name = settings.PROCESSING_PLACEMENT
    placement = _placements.get(name)
    if placement is None:
        if name not in PLACEMENTS:
            raise ImproperlyConfigured(f"PROCESSING_PLACEMENT {name!r} is not one of {PLACEMENTS}")
        placement = _placements[name] = import_string(PLACEMENTS[name])()
    return placement

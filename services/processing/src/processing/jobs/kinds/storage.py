"""Reading sources from and writing results to Django's default storage."""

import uuid
from typing import IO, Any

from django.core.files.base import File
from django.core.files.storage import default_storage

from processing.jobs.errors import JobInputInvalidError


def source_open(location: str) -> IO[bytes]:
    """Open a source the monolith wrote; a missing one fails the job (no retry helps)."""
    if ".." in location.split("/") or location.startswith("/"):
        raise JobInputInvalidError("The source location must be relative.", code="source_invalid")
    if not default_storage.exists(location):
        raise JobInputInvalidError(f"No source at {location}.", code="source_missing")
    return default_storage.open(location, "rb")


def result_save(
    *, job_id: uuid.UUID, name: str, content: IO[bytes], media_type: str, **dimensions: int
) -> dict[str, Any]:
    """Store one result under results/<job id>/ and describe it as a ResultLocation."""
    wanted = f"results/{job_id}/{name}"
    # A redelivered job (its worker died) writes the same names again: replace, never add a
    # suffixed copy, so that a job's results exist once however often it ran.
    if default_storage.exists(wanted):
        default_storage.delete(wanted)
    location = default_storage.save(wanted, File(content, name=name))
    return {
        "name": name,
        "location": location,
        "media_type": media_type,
        "size_bytes": default_storage.size(location),
        **dimensions,
    }

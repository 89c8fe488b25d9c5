"""Reading sources from and writing results to the storage the runner passes in."""

import uuid
from typing import IO, Any

from tessera_jobs.base import JobStorage
from tessera_jobs.errors import JobInputInvalidError


def source_open(storage: JobStorage, location: str) -> IO[bytes]:
    """Open a source the monolith wrote; a missing one fails the job (no retry helps)."""
    if ".." in location.split("/") or location.startswith("/"):
        raise JobInputInvalidError("The source location must be relative.", code="source_invalid")
    if not storage.exists(location):
        raise JobInputInvalidError(f"No source at {location}.", code="source_missing")
    return storage.open(location, "rb")


def result_save(
    storage: JobStorage,
    *,
    job_id: uuid.UUID,
    name: str,
    content: IO[bytes],
    media_type: str,
    **dimensions: int,
) -> dict[str, Any]:
    """Store one result under results/<job id>/ and describe it as a ResultLocation."""
    wanted = f"results/{job_id}/{name}"
    # A redelivered job (its worker died) writes the same names again: replace, never add a
    # suffixed copy, so that a job's results exist once however often it ran.
    if storage.exists(wanted):
        storage.delete(wanted)
    # Django's Storage.save wraps a plain file object in its File itself.
    location = storage.save(wanted, content)
    return {
        "name": name,
        "location": location,
        "media_type": media_type,
        "size_bytes": storage.size(location),
        **dimensions,
    }

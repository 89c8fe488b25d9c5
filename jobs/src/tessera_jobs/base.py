"""What every job kind is: a function of the job's input and of what its runner gives it.

The kinds depend on this module only, not on whoever runs them, so the processing service's
worker and the monolith's inline placement run the same functions. A runner supplies the
storage, the limits from its own settings and a checkpoint; nothing here reads settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol

# Called with the progress so far (0-100); raises JobCancelledError when the job was
# cancelled, so a long job stops at its next checkpoint.
Checkpoint = Callable[[int], None]


class JobStorage(Protocol):
    """Where sources are read and results written: the part of Django's ``Storage`` the kinds
    use, so a runner passes its ``default_storage`` (files, S3) as it is."""

    def open(self, name: str, mode: str = "rb") -> IO[Any]: ...

    def save(self, name: str | None, content: IO[Any], max_length: int | None = None) -> str: ...

    def delete(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...


@dataclass(frozen=True)
class JobLimits:
    """What a runner's settings allow a job; each runner reads its own."""

    # Decompression-bomb guard: an image with more pixels is refused before it is decoded.
    image_max_pixels: int


@dataclass(frozen=True)
class JobRun:
    """What a runner hands a kind for one attempt of one job."""

    job_id: uuid.UUID
    checkpoint: Checkpoint
    storage: JobStorage
    limits: JobLimits


# (the job's input as stored, the attempt's run) -> the result's locations.
JobHandler = Callable[[dict[str, Any], JobRun], list[dict[str, Any]]]

"""Start-up checks of the jobs' placement: a wrong setting stops the process, not a job."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

from .placement import PLACEMENTS


def placement_check(**kwargs: Any) -> list[Error]:
    name = settings.PROCESSING_PLACEMENT
    if name not in PLACEMENTS:
        return [
            Error(
                f"PROCESSING_PLACEMENT is {name!r}; it must be one of {', '.join(PLACEMENTS)}.",
                id="jobs.E001",
            )
        ]
    return []

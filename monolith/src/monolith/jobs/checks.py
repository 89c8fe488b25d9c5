"""Start-up checks of the jobs' placement: a wrong setting stops the process, not a job."""

from __future__ import annotations

from importlib.util import find_spec
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
    if name == "inline" and find_spec("processing") is None:
        return [
            Error(
                "PROCESSING_PLACEMENT is inline, but the processing package (its job kinds) "
                "is not installed in this environment.",
                hint="Install services/processing next to the monolith, or use 'service'.",
                id="jobs.E002",
            )
        ]
    return []

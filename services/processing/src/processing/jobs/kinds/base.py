"""What every job kind is: a function of the job's input that reports progress as it goes.

The kinds depend on this module only, not on the services that run them, so a kind can be
run by the service's worker or by any other runner that supplies a checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

# Called with the progress so far (0-100); raises JobCancelledError when the job was
# cancelled, so a long job stops at its next checkpoint.
Checkpoint = Callable[[int], None]

# (the job's input as stored, the checkpoint, the job's id) -> the result's locations.
JobHandler = Callable[[dict[str, Any], Checkpoint, uuid.UUID], list[dict[str, Any]]]

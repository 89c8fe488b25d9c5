"""Errors a job's work can end with; each carries the contract's stable error code."""


class JobWorkError(Exception):
    """The work failed; ``retryable`` says whether another attempt could succeed."""

    code = "processing_failed"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class JobInputInvalidError(JobWorkError):
    """The input can never be processed (not an image, corrupt, too large)."""

    code = "input_invalid"


class JobTransientError(JobWorkError):
    """A dependency failed for now; another attempt may succeed."""

    code = "temporarily_unavailable"
    retryable = True


class JobCancelledError(Exception):
    """The job was cancelled while it ran; it stops at this checkpoint."""

"""Answering ``GET /healthz`` and ``GET /readyz`` the same way on every component.

A component names its dependency checks (callables that raise when the dependency does not
answer); :func:`readiness_run` times each one and builds the contract's ``Readiness`` body.
Failures are described by exception type only: hosts, credentials and stack traces stay in
the component's log.
"""

import logging
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from tessera_contract.models.codec import payload_encode
from tessera_contract.models.health import Liveness, Readiness, ReadinessCheck

__all__ = [
    "READY_RETRY_AFTER_SECONDS",
    "HealthAnswer",
    "liveness",
    "liveness_answer",
    "readiness_answer",
    "readiness_run",
]

READY_RETRY_AFTER_SECONDS = 5
logger = logging.getLogger(__name__)


def liveness(*, component: str, version: str) -> Liveness:
    """The body of ``/healthz``: the process answers, nothing else is checked."""
    return Liveness(status="ok", component=component, version=version)


def _check(name: str, check: Callable[[], None]) -> ReadinessCheck:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:
        logger.warning("readiness check %s failed", name, exc_info=True)
        elapsed = (time.perf_counter() - started) * 1000
        return ReadinessCheck(
            name=name, status="failing", duration_ms=elapsed, detail=type(error).__name__
        )
    return ReadinessCheck(
        name=name, status="ok", duration_ms=(time.perf_counter() - started) * 1000
    )


def readiness_run(
    *, component: str, version: str, checks: Mapping[str, Callable[[], None]]
) -> Readiness:
    """Run every check once; the body is 'ready' only when all of them pass."""
    results = [_check(name, check) for name, check in checks.items()]
    ready = all(result.status == "ok" for result in results)
    return Readiness(
        status="ready" if ready else "unavailable",
        component=component,
        version=version,
        checks=results,
    )


class HealthAnswer(NamedTuple):
    """An HTTP answer in no framework's terms: each component turns it into its response."""

    status: int
    headers: dict[str, str]
    body: bytes


def liveness_answer(*, component: str, version: str) -> HealthAnswer:
    """``GET /healthz``: always 200."""
    return HealthAnswer(200, {}, payload_encode(liveness(component=component, version=version)))


def readiness_answer(
    *, component: str, version: str, checks: Mapping[str, Callable[[], None]]
) -> HealthAnswer:
    """``GET /readyz``: 200 when every check passes, else 503 with Retry-After."""
    report = readiness_run(component=component, version=version, checks=checks)
    if report.status == "ready":
        return HealthAnswer(200, {}, payload_encode(report))
    return HealthAnswer(
        503, {"Retry-After": str(READY_RETRY_AFTER_SECONDS)}, payload_encode(report)
    )

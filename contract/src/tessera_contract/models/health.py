"""Bodies of ``GET /healthz`` and ``GET /readyz``, the same on every component."""

from typing import Annotated, Literal

from msgspec import Meta

from tessera_contract.models.base import UNSET, ContractStruct, UnsetType, pattern_for_python

ComponentName = Annotated[str, Meta(pattern=pattern_for_python(r"^[a-z][a-z0-9-]{0,31}$"))]
ComponentVersion = Annotated[str, Meta(min_length=1, max_length=64)]


class Liveness(ContractStruct, frozen=True, kw_only=True):
    """The process answers; no dependency is checked."""

    status: Literal["ok"]
    component: ComponentName
    version: ComponentVersion


class ReadinessCheck(ContractStruct, frozen=True, kw_only=True):
    """The outcome of checking one dependency."""

    name: Annotated[str, Meta(pattern=pattern_for_python(r"^[a-z][a-z0-9_-]{0,31}$"))]
    status: Literal["ok", "failing"]
    duration_ms: Annotated[float, Meta(ge=0, le=600_000)]
    detail: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET


class Readiness(ContractStruct, frozen=True, kw_only=True):
    """Whether every dependency answers: 'ready' with HTTP 200, 'unavailable' with HTTP 503."""

    status: Literal["ready", "unavailable"]
    component: ComponentName
    version: ComponentVersion
    checks: Annotated[list[ReadinessCheck], Meta(max_length=32)]

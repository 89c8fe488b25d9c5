"""Which model mirrors which file in ``contract/schemas``: the contract's tests walk it."""

from typing import Any

from tessera_contract.models.carrier import CarrierEvent
from tessera_contract.models.envelopes import WebhookAcknowledgement, WebhookEnvelope
from tessera_contract.models.health import Liveness, Readiness
from tessera_contract.models.jobs import Job, JobCreateRequest, JobQueued, JobResult
from tessera_contract.models.payments import PaymentEvent
from tessera_contract.models.problems import ProblemDetails

__all__ = ["SCHEMA_MODELS"]

SCHEMA_MODELS: dict[str, Any] = {
    "problem-details.json": ProblemDetails,
    "liveness.json": Liveness,
    "readiness.json": Readiness,
    "job-create-request.json": JobCreateRequest,
    "job.json": Job,
    "job-result.json": JobResult,
    "job-queued.json": JobQueued,
    "payment-event.json": PaymentEvent,
    "carrier-event.json": CarrierEvent,
    "webhook-envelope.json": WebhookEnvelope,
    "webhook-acknowledgement.json": WebhookAcknowledgement,
}

"""What the webhook functions publish for the monolith, and what they answer the sender."""

from typing import Literal

from tessera_contract.models.base import ContractStruct, EventId, Timestamp, TraceContext
from tessera_contract.models.carrier import CarrierEvent, CarrierEventType
from tessera_contract.models.payments import PaymentEvent, PaymentEventType


class WebhookEnvelopeBase(ContractStruct, tag_field="source", frozen=True, kw_only=True):
    """Fields every envelope has; ``source`` is the tag that selects the subclass."""

    event_id: EventId
    received_at: Timestamp
    trace: TraceContext


class PaymentWebhookEnvelope(WebhookEnvelopeBase, tag="payments", frozen=True, kw_only=True):
    """A verified payment provider event."""

    type: PaymentEventType
    payload: PaymentEvent


class CarrierWebhookEnvelope(WebhookEnvelopeBase, tag="carrier", frozen=True, kw_only=True):
    """A verified carrier event."""

    type: CarrierEventType
    payload: CarrierEvent


WebhookEnvelope = PaymentWebhookEnvelope | CarrierWebhookEnvelope


class WebhookAcknowledgement(ContractStruct, frozen=True, kw_only=True):
    """Body of a webhook endpoint's 202."""

    event_id: EventId
    status: Literal["queued", "ignored"]

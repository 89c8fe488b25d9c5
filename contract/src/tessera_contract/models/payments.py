"""Payment provider events (Stripe's event shape), as received on ``/webhooks/payments``.

Only the fields Tessera relies on are modelled; the provider sends many more and they are
ignored on decoding.
"""

from typing import Annotated, Literal, cast

from msgspec import Meta

from tessera_contract.models.base import (
    UNSET,
    AmountMinor,
    ContractStruct,
    OrderNumber,
    PaymentReference,
    UnsetType,
    pattern_for_python,
)

PaymentEventType = Literal[
    "payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"
]
PAYMENT_EVENT_TYPES: frozenset[str] = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}
)

ProviderEventId = Annotated[str, Meta(pattern=pattern_for_python(r"^evt_[A-Za-z0-9_]{1,250}$"))]
PaymentIntentId = Annotated[str, Meta(pattern=pattern_for_python(r"^pi_[A-Za-z0-9_]{1,250}$"))]
ChargeId = Annotated[str, Meta(pattern=pattern_for_python(r"^ch_[A-Za-z0-9_]{1,250}$"))]
UnixTime = Annotated[int, Meta(ge=0, le=32_503_680_000)]
ProviderCurrency = Annotated[str, Meta(pattern=pattern_for_python(r"^[a-z]{3}$"))]


class PaymentIntentMetadata(ContractStruct, frozen=True, kw_only=True):
    """What the monolith attached to the payment at checkout."""

    payment_reference: PaymentReference
    order_number: OrderNumber | UnsetType = UNSET


class LastPaymentError(ContractStruct, frozen=True, kw_only=True):
    """Why the provider declined the last attempt to pay."""

    code: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    decline_code: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    message: Annotated[str, Meta(max_length=1000)] | UnsetType = UNSET


class PaymentIntent(ContractStruct, frozen=True, kw_only=True):
    """The provider's payment for one checkout."""

    id: PaymentIntentId
    object: Literal["payment_intent"]
    amount: AmountMinor
    amount_received: AmountMinor
    currency: ProviderCurrency
    status: Literal[
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "canceled",
        "succeeded",
    ]
    metadata: PaymentIntentMetadata
    last_payment_error: LastPaymentError | UnsetType | None = UNSET


class ChargeMetadata(ContractStruct, frozen=True, kw_only=True):
    """A charge's metadata; the payment reference is there when the provider copied it."""

    payment_reference: PaymentReference | UnsetType = UNSET
    order_number: OrderNumber | UnsetType = UNSET


class Charge(ContractStruct, frozen=True, kw_only=True):
    """One charge of a payment intent; refunds are reported on it."""

    id: ChargeId
    object: Literal["charge"]
    amount: AmountMinor
    amount_refunded: AmountMinor
    currency: ProviderCurrency
    payment_intent: PaymentIntentId
    refunded: bool
    metadata: ChargeMetadata


class PaymentIntentData(ContractStruct, frozen=True, kw_only=True):
    """``data`` of a payment intent event."""

    object: PaymentIntent


class ChargeData(ContractStruct, frozen=True, kw_only=True):
    """``data`` of a charge event."""

    object: Charge


class PaymentEventBase(ContractStruct, tag_field="type", frozen=True, kw_only=True):
    """Fields every provider event has; ``type`` is the tag that selects the subclass."""

    id: ProviderEventId
    object: Literal["event"]
    created: UnixTime
    livemode: bool
    api_version: Annotated[str, Meta(max_length=64)] | UnsetType | None = UNSET

    @property
    def type(self) -> PaymentEventType:
        """The event type, read from the tag this event was decoded with."""
        return cast(PaymentEventType, self.__struct_config__.tag)


class PaymentIntentSucceededEvent(
    PaymentEventBase, tag="payment_intent.succeeded", frozen=True, kw_only=True
):
    """The shopper paid: the order becomes paid."""

    data: PaymentIntentData


class PaymentIntentPaymentFailedEvent(
    PaymentEventBase, tag="payment_intent.payment_failed", frozen=True, kw_only=True
):
    """An attempt to pay failed; the shopper may try again."""

    data: PaymentIntentData


class ChargeRefundedEvent(PaymentEventBase, tag="charge.refunded", frozen=True, kw_only=True):
    """Money went back to the shopper, in part or in full."""

    data: ChargeData


PaymentEvent = PaymentIntentSucceededEvent | PaymentIntentPaymentFailedEvent | ChargeRefundedEvent

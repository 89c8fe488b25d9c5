"""Carrier tracking events (Standard Webhooks payload shape), received on ``/webhooks/carrier``."""

from typing import Annotated, Literal, cast

from msgspec import Meta

from tessera_contract.models.base import (
    UNSET,
    ContractStruct,
    CountryCode,
    OrderNumber,
    Timestamp,
    UnsetType,
    pattern_for_python,
)

CarrierEventType = Literal["shipment.in_transit", "shipment.delivered", "shipment.exception"]
CARRIER_EVENT_TYPES: frozenset[str] = frozenset(
    {"shipment.in_transit", "shipment.delivered", "shipment.exception"}
)

TrackingNumber = Annotated[
    str, Meta(pattern=pattern_for_python(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$"))
]
CarrierCode = Annotated[str, Meta(pattern=pattern_for_python(r"^[a-z][a-z0-9_-]{1,31}$"))]


class ShipmentLocation(ContractStruct, frozen=True, kw_only=True):
    """Where the carrier saw the parcel."""

    city: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    country_code: CountryCode | UnsetType = UNSET


class ShipmentUpdate(ContractStruct, frozen=True, kw_only=True):
    """What happened to a shipment, and when."""

    tracking_number: TrackingNumber
    carrier: CarrierCode
    order_reference: OrderNumber
    occurred_at: Timestamp
    location: ShipmentLocation | UnsetType = UNSET


class ShipmentException(ContractStruct, frozen=True, kw_only=True):
    """Why a shipment is held up."""

    code: Literal["address_issue", "damaged", "lost", "refused", "delayed", "other"]
    message: Annotated[str, Meta(min_length=1, max_length=500)]


class ShipmentExceptionUpdate(ShipmentUpdate, frozen=True, kw_only=True):
    """A shipment update that reports a problem."""

    exception: ShipmentException


class CarrierEventBase(ContractStruct, tag_field="type", frozen=True, kw_only=True):
    """Fields every carrier event has; ``type`` is the tag that selects the subclass."""

    timestamp: Timestamp

    @property
    def type(self) -> CarrierEventType:
        """The event type, read from the tag this event was decoded with."""
        return cast(CarrierEventType, self.__struct_config__.tag)


class ShipmentInTransitEvent(
    CarrierEventBase, tag="shipment.in_transit", frozen=True, kw_only=True
):
    """The carrier has the parcel and it is moving."""

    data: ShipmentUpdate


class ShipmentDeliveredEvent(CarrierEventBase, tag="shipment.delivered", frozen=True, kw_only=True):
    """The parcel reached the shopper."""

    data: ShipmentUpdate


class ShipmentExceptionEvent(CarrierEventBase, tag="shipment.exception", frozen=True, kw_only=True):
    """The parcel is held up."""

    data: ShipmentExceptionUpdate


CarrierEvent = ShipmentInTransitEvent | ShipmentDeliveredEvent | ShipmentExceptionEvent

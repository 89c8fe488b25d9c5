"""The candidate implementations of the contract's models, measured by model_library_benchmark.

Kept apart from the benchmark so that a cold-start measurement imports only this module's few
standard-library imports plus the candidate being measured. Nothing here is imported by the
package; every candidate imports its library inside its own function.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

CONTRACT_DIR = Path(__file__).resolve().parents[1]
FIXTURES = CONTRACT_DIR / "tests" / "fixtures"
PAYMENT_BODY = (FIXTURES / "payment_intent.succeeded.json").read_bytes()
CARRIER_BODY = (FIXTURES / "shipment.delivered.json").read_bytes()

# What each candidate needs installed.
PACKAGES = {
    "msgspec": ["msgspec"],
    "pydantic": ["pydantic"],
    "fastjsonschema": ["fastjsonschema"],
    "jsonschema": ["jsonschema", "rfc3339-validator"],
}


def _bundled(name: str) -> dict[str, Any]:
    """A schema file with every $ref inlined, for validators that want one document."""
    schemas = CONTRACT_DIR / "schemas"

    def inline(node: Any, file_name: str) -> Any:
        if isinstance(node, list):
            return [inline(item, file_name) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target_file, _, fragment = node["$ref"].partition("#")
            target_file = target_file or file_name
            target: Any = json.loads((schemas / target_file).read_text())
            for token in (part for part in fragment.split("/") if part):
                target = target[token]
            return inline(target, target_file)
        return {k: inline(v, file_name) for k, v in node.items() if k not in ("$defs", "$schema")}

    return inline(json.loads((schemas / name).read_text()), name)


# ---- candidate: msgspec (the models this package ships) ---------------------------------


def msgspec_decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    import msgspec
    from tessera_contract.models import CarrierEvent, PaymentEvent

    payment = msgspec.json.Decoder(PaymentEvent)
    carrier = msgspec.json.Decoder(CarrierEvent)
    return payment.decode, carrier.decode


# ---- candidate: pydantic v2, the same models ---------------------------------------------


def pydantic_decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

    class Model(BaseModel):
        model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    Amount = Annotated[int, Field(ge=0, le=999_999_999_999)]
    OrderNumber = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,31}$")]

    class Metadata(Model):
        payment_reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")]
        order_number: OrderNumber | None = None

    class LastError(Model):
        code: Annotated[str, Field(max_length=100)] | None = None
        decline_code: Annotated[str, Field(max_length=100)] | None = None
        message: Annotated[str, Field(max_length=1000)] | None = None

    class Intent(Model):
        id: Annotated[str, Field(pattern=r"^pi_[A-Za-z0-9_]{1,250}$")]
        object: Literal["payment_intent"]
        amount: Amount
        amount_received: Amount
        currency: Annotated[str, Field(pattern=r"^[a-z]{3}$")]
        status: Literal[
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "processing",
            "requires_capture",
            "canceled",
            "succeeded",
        ]
        metadata: Metadata
        last_payment_error: LastError | None = None

    class ChargeMetadata(Model):
        payment_reference: str | None = None
        order_number: OrderNumber | None = None

    class Charge(Model):
        id: Annotated[str, Field(pattern=r"^ch_[A-Za-z0-9_]{1,250}$")]
        object: Literal["charge"]
        amount: Amount
        amount_refunded: Amount
        currency: Annotated[str, Field(pattern=r"^[a-z]{3}$")]
        payment_intent: Annotated[str, Field(pattern=r"^pi_[A-Za-z0-9_]{1,250}$")]
        refunded: bool
        metadata: ChargeMetadata

    class IntentData(Model):
        object: Intent

    class ChargeData(Model):
        object: Charge

    class EventBase(Model):
        id: Annotated[str, Field(pattern=r"^evt_[A-Za-z0-9_]{1,250}$")]
        object: Literal["event"]
        created: Annotated[int, Field(ge=0, le=32_503_680_000)]
        livemode: bool
        api_version: Annotated[str, Field(max_length=64)] | None = None

    class Succeeded(EventBase):
        type: Literal["payment_intent.succeeded"]
        data: IntentData

    class Failed(EventBase):
        type: Literal["payment_intent.payment_failed"]
        data: IntentData

    class Refunded(EventBase):
        type: Literal["charge.refunded"]
        data: ChargeData

    class Location(Model):
        city: Annotated[str, Field(max_length=100)] | None = None
        country_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None

    class Update(Model):
        tracking_number: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")]
        carrier: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
        order_reference: OrderNumber
        occurred_at: AwareDatetime
        location: Location | None = None

    class ExceptionInfo(Model):
        code: Literal["address_issue", "damaged", "lost", "refused", "delayed", "other"]
        message: Annotated[str, Field(min_length=1, max_length=500)]

    class ExceptionUpdate(Update):
        exception: ExceptionInfo

    class InTransit(Model):
        type: Literal["shipment.in_transit"]
        timestamp: AwareDatetime
        data: Update

    class Delivered(Model):
        type: Literal["shipment.delivered"]
        timestamp: AwareDatetime
        data: Update

    class Held(Model):
        type: Literal["shipment.exception"]
        timestamp: AwareDatetime
        data: ExceptionUpdate

    payment: TypeAdapter[Any] = TypeAdapter(
        Annotated[Succeeded | Failed | Refunded, Field(discriminator="type")]
    )
    carrier: TypeAdapter[Any] = TypeAdapter(
        Annotated[InTransit | Delivered | Held, Field(discriminator="type")]
    )
    return payment.validate_json, carrier.validate_json


# ---- candidates: a JSON Schema validator, then plain dataclasses -------------------------


@dataclass(frozen=True, slots=True)
class _Intent:
    id: str
    amount: int
    amount_received: int
    currency: str
    status: str
    payment_reference: str


@dataclass(frozen=True, slots=True)
class _PaymentEvent:
    id: str
    type: str
    created: int
    intent: _Intent | None
    raw_object: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Shipment:
    type: str
    timestamp: datetime
    tracking_number: str
    order_reference: str
    occurred_at: datetime


def _payment_dataclass(event: dict[str, Any]) -> _PaymentEvent:
    # Hand-written construction: the fastest possible mapping, which favours these candidates.
    obj = event["data"]["object"]
    intent = None
    if obj["object"] == "payment_intent":
        intent = _Intent(
            id=obj["id"],
            amount=obj["amount"],
            amount_received=obj["amount_received"],
            currency=obj["currency"],
            status=obj["status"],
            payment_reference=obj["metadata"]["payment_reference"],
        )
    return _PaymentEvent(
        id=event["id"], type=event["type"], created=event["created"], intent=intent, raw_object=obj
    )


def _shipment_dataclass(event: dict[str, Any]) -> _Shipment:
    data = event["data"]
    return _Shipment(
        type=event["type"],
        timestamp=datetime.fromisoformat(event["timestamp"]),
        tracking_number=data["tracking_number"],
        order_reference=data["order_reference"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
    )


def fastjsonschema_decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    import fastjsonschema

    payment_check = fastjsonschema.compile(_bundled("payment-event.json"))
    carrier_check = fastjsonschema.compile(_bundled("carrier-event.json"))

    def payment(raw: bytes) -> _PaymentEvent:
        return _payment_dataclass(payment_check(json.loads(raw)))

    def carrier(raw: bytes) -> _Shipment:
        return _shipment_dataclass(carrier_check(json.loads(raw)))

    return payment, carrier


def jsonschema_decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    payment_validator = Draft202012Validator(_bundled("payment-event.json"), format_checker=checker)
    carrier_validator = Draft202012Validator(_bundled("carrier-event.json"), format_checker=checker)

    def payment(raw: bytes) -> _PaymentEvent:
        event = json.loads(raw)
        payment_validator.validate(event)
        return _payment_dataclass(event)

    def carrier(raw: bytes) -> _Shipment:
        event = json.loads(raw)
        carrier_validator.validate(event)
        return _shipment_dataclass(event)

    return payment, carrier


CANDIDATES: dict[str, Callable[[], tuple[Callable[[bytes], Any], Callable[[bytes], Any]]]] = {
    "msgspec": msgspec_decoders,
    "pydantic": pydantic_decoders,
    "fastjsonschema": fastjsonschema_decoders,
    "jsonschema": jsonschema_decoders,
}


def first_decode(candidate: str) -> None:
    """Build ``candidate``'s decoders and decode one payment event (the cold-start path)."""
    payment, _ = CANDIDATES[candidate]()
    payment(PAYMENT_BODY)

"""The signature matrix: deliveries signed by the real sender libraries, and every way to fail.

A refused delivery answers 401 with a problem that says nothing about which check failed,
and nothing is queued.
"""

import time

import pytest
from tessera_functions.app import WebhookApplication, webhook_application_create
from webhook_testing import (
    CARRIER_NEXT_SECRET,
    CARRIER_SECRET,
    PAYMENT_NEXT_SECRET,
    PAYMENT_SECRET,
    carrier_headers,
    json_body,
    post,
    queued_envelopes,
    recorded_payload,
    settings_for,
    stripe_signature,
)
from werkzeug.test import Client

PAYMENT_BODY = recorded_payload("payment_intent.succeeded.json")
CARRIER_BODY = recorded_payload("shipment.in_transit.json")
WRONG_PAYMENT_SECRET = "whsec_test_somebody_else_0000000000000000"
WRONG_CARRIER_SECRET = "whsec_" + "d3JvbmctY2Fycmllci1zZWNyZXQtMzItYnl0ZXMhIQ=="


def assert_refused_without_details(response: object) -> None:
    body = json_body(response)  # type: ignore[arg-type]
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.content_type == "application/problem+json"  # type: ignore[attr-defined]
    assert body == {"type": "/problems/signature-invalid", "title": "Unauthorized", "status": 401}
    assert queued_envelopes("memory://") == []


# --- payments: Stripe-compatible ------------------------------------------------------------


def test_a_payment_signed_by_the_stripe_library_is_queued(memory_app: WebhookApplication) -> None:
    response = post(
        Client(memory_app),
        "/webhooks/payments",
        PAYMENT_BODY,
        {"Stripe-Signature": stripe_signature(PAYMENT_BODY)},
    )

    assert response.status_code == 202
    assert json_body(response) == {"event_id": "evt_3QfK8sLkdIwHu7ix0aCy1RfM", "status": "queued"}
    assert len(queued_envelopes("memory://")) == 1


@pytest.mark.parametrize(
    ("case", "body", "header"),
    [
        (
            "wrong secret",
            PAYMENT_BODY,
            lambda: stripe_signature(PAYMENT_BODY, WRONG_PAYMENT_SECRET),
        ),
        (
            "tampered body",
            PAYMENT_BODY.replace(b"4990", b"4999"),
            lambda: stripe_signature(PAYMENT_BODY),
        ),
        (
            "stale timestamp",
            PAYMENT_BODY,
            lambda: stripe_signature(PAYMENT_BODY, at=int(time.time()) - 301),
        ),
        (
            "future timestamp",
            PAYMENT_BODY,
            lambda: stripe_signature(PAYMENT_BODY, at=int(time.time()) + 301),
        ),
        ("missing header", PAYMENT_BODY, lambda: None),
        ("empty header", PAYMENT_BODY, lambda: ""),
        ("not key=value", PAYMENT_BODY, lambda: "garbage"),
        ("no timestamp", PAYMENT_BODY, lambda: stripe_signature(PAYMENT_BODY).split(",", 1)[1]),
        ("no v1", PAYMENT_BODY, lambda: stripe_signature(PAYMENT_BODY).split(",", 1)[0]),
        (
            "non-numeric timestamp",
            PAYMENT_BODY,
            lambda: "t=soon," + stripe_signature(PAYMENT_BODY).split(",", 1)[1],
        ),
        (
            "only the test-mode v0",
            PAYMENT_BODY,
            lambda: stripe_signature(PAYMENT_BODY).replace("v1=", "v0="),
        ),
    ],
)
def test_a_payment_with_a_bad_signature_is_refused_without_details(
    memory_app: WebhookApplication, case: str, body: bytes, header: object
) -> None:
    value = header()  # type: ignore[operator]
    headers = {} if value is None else {"Stripe-Signature": value}

    assert_refused_without_details(post(Client(memory_app), "/webhooks/payments", body, headers))


def test_the_signature_is_checked_before_the_body_is_parsed(memory_app: WebhookApplication) -> None:
    # Not JSON, and unsigned: the answer is about the signature, not the body.
    response = post(Client(memory_app), "/webhooks/payments", b"{not json", {})

    assert_refused_without_details(response)


def test_a_payment_signed_with_the_previous_secret_is_accepted_during_a_rotation(
    memory_app: WebhookApplication,
) -> None:
    # memory_app holds both the next and the current secret, as during a rotation.
    for secret in (PAYMENT_SECRET, PAYMENT_NEXT_SECRET):
        header = stripe_signature(PAYMENT_BODY, secret)
        response = post(
            Client(memory_app), "/webhooks/payments", PAYMENT_BODY, {"Stripe-Signature": header}
        )
        assert response.status_code == 202, secret


def test_a_retired_payment_secret_is_refused_once_the_rotation_is_over() -> None:
    application = webhook_application_create(
        settings_for("memory://", PAYMENT_WEBHOOK_SECRETS=PAYMENT_NEXT_SECRET)
    )
    header = stripe_signature(PAYMENT_BODY, PAYMENT_SECRET)

    response = post(
        Client(application), "/webhooks/payments", PAYMENT_BODY, {"Stripe-Signature": header}
    )

    assert_refused_without_details(response)


def test_one_matching_signature_among_several_in_the_header_is_enough(
    memory_app: WebhookApplication,
) -> None:
    genuine = stripe_signature(PAYMENT_BODY)
    timestamp, signature = genuine.split(",", 1)
    foreign = stripe_signature(PAYMENT_BODY, WRONG_PAYMENT_SECRET).split(",", 1)[1]
    header = f"{timestamp},{foreign},{signature}"

    response = post(
        Client(memory_app), "/webhooks/payments", PAYMENT_BODY, {"Stripe-Signature": header}
    )

    assert header.count("v1=") == 2
    assert response.status_code == 202


# --- carrier: Standard Webhooks -------------------------------------------------------------


def test_a_carrier_event_signed_by_standardwebhooks_is_queued(
    memory_app: WebhookApplication,
) -> None:
    headers = carrier_headers(CARRIER_BODY, message_id="msg_2pQx7")

    response = post(Client(memory_app), "/webhooks/carrier", CARRIER_BODY, headers)

    assert response.status_code == 202
    assert json_body(response) == {"event_id": "msg_2pQx7", "status": "queued"}
    assert len(queued_envelopes("memory://")) == 1


def _without(name: str) -> dict[str, str]:
    headers = carrier_headers(CARRIER_BODY)
    del headers[name]
    return headers


def _with(**changes: str) -> dict[str, str]:
    headers = carrier_headers(CARRIER_BODY)
    headers.update({name.replace("_", "-"): value for name, value in changes.items()})
    return headers


@pytest.mark.parametrize(
    ("case", "body", "headers"),
    [
        ("wrong secret", CARRIER_BODY, lambda: carrier_headers(CARRIER_BODY, WRONG_CARRIER_SECRET)),
        (
            "tampered body",
            CARRIER_BODY.replace(b"Antwerp", b"Brussels"),
            lambda: carrier_headers(CARRIER_BODY),
        ),
        (
            "stale timestamp",
            CARRIER_BODY,
            lambda: carrier_headers(CARRIER_BODY, at=int(time.time()) - 301),
        ),
        (
            "future timestamp",
            CARRIER_BODY,
            lambda: carrier_headers(CARRIER_BODY, at=int(time.time()) + 301),
        ),
        ("tampered id", CARRIER_BODY, lambda: _with(webhook_id="msg_other")),
        ("missing signature", CARRIER_BODY, lambda: _without("webhook-signature")),
        ("missing id", CARRIER_BODY, lambda: _without("webhook-id")),
        ("missing timestamp", CARRIER_BODY, lambda: _without("webhook-timestamp")),
        ("non-numeric timestamp", CARRIER_BODY, lambda: _with(webhook_timestamp="yesterday")),
        (
            "signature without version",
            CARRIER_BODY,
            lambda: _with(webhook_signature="c2lnbmF0dXJl"),
        ),
        ("signature not base64", CARRIER_BODY, lambda: _with(webhook_signature="v1,!!!")),
        (
            "only unknown versions",
            CARRIER_BODY,
            lambda: _with(webhook_signature="v1a,c2lnbmF0dXJl"),
        ),
    ],
)
def test_a_carrier_event_with_a_bad_signature_is_refused_without_details(
    memory_app: WebhookApplication, case: str, body: bytes, headers: object
) -> None:
    response = post(Client(memory_app), "/webhooks/carrier", body, headers())  # type: ignore[operator]

    assert_refused_without_details(response)


def test_a_carrier_event_signed_with_either_active_secret_is_accepted(
    memory_app: WebhookApplication,
) -> None:
    for secret in (CARRIER_SECRET, CARRIER_NEXT_SECRET):
        response = post(
            Client(memory_app),
            "/webhooks/carrier",
            CARRIER_BODY,
            carrier_headers(CARRIER_BODY, secret),
        )
        assert response.status_code == 202, secret


def test_a_retired_carrier_secret_is_refused_once_the_rotation_is_over() -> None:
    application = webhook_application_create(
        settings_for("memory://", CARRIER_WEBHOOK_SECRETS=CARRIER_NEXT_SECRET)
    )

    response = post(
        Client(application), "/webhooks/carrier", CARRIER_BODY, carrier_headers(CARRIER_BODY)
    )

    assert_refused_without_details(response)


def test_a_carrier_header_with_several_signatures_is_accepted_when_one_matches(
    memory_app: WebhookApplication,
) -> None:
    foreign = carrier_headers(CARRIER_BODY, WRONG_CARRIER_SECRET)["webhook-signature"]
    headers = carrier_headers(CARRIER_BODY)
    headers["webhook-signature"] = f"{foreign} {headers['webhook-signature']}"

    response = post(Client(memory_app), "/webhooks/carrier", CARRIER_BODY, headers)

    assert response.status_code == 202

"""The webhook receivers mounted in the monolith (WEBHOOK_RECEIVERS_PLACEMENT=inline).

The same contract checks as the functions' own suite (tessera_testsupport.webhook_contract),
through Django's whole request handling this time; a delivery with a bad signature is a 401
problem and queues nothing, while the same delivery signed right is queued; and where the
functions receive webhooks, the monolith answers /webhooks/… with a 404 problem.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from kombu import Connection
from kombu.transport import filesystem
from tessera_runtime.brokers import filesystem_transport_options
from tessera_testsupport.webhook_contract import (
    WEBHOOKS_TAG,
    contract_case_check,
    contract_operations,
)

from monolith.api.contract_drift import CONTRACT_PATH
from monolith.inbox.checks import placement_check
from monolith.inbox.consumers import webhook_queue

pytestmark = pytest.mark.django_db

PAYMENT_SECRET = "whsec_monolith_inline_payments_0123456789"
CARRIER_SECRET = "whsec_bW9ub2xpdGgtaW5saW5lLWNhcnJpZXItc2VjcmV0IQ=="
RECORDED_PAYMENT = (
    Path(CONTRACT_PATH).parent / "tests" / "fixtures" / "payment_intent.succeeded.json"
).read_bytes()

schema = contract_operations(CONTRACT_PATH, tag=WEBHOOKS_TAG)


@pytest.fixture
def inline_receivers(settings, tmp_path) -> Path:
    """The receivers mounted in this process, publishing to a filesystem broker of the
    test's own; returns the broker's folder."""
    settings.WEBHOOK_RECEIVERS_PLACEMENT = "inline"
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.VAR_DIR = tmp_path
    settings.PAYMENT_WEBHOOK_SECRETS = PAYMENT_SECRET
    settings.CARRIER_WEBHOOK_SECRETS = CARRIER_SECRET
    # kombu remembers the filesystem broker's queue bindings process-wide, but writes them to
    # each folder's control files: a queue bound in an earlier test's folder would not be
    # bound in this one, and what the receivers publish would be routed nowhere.
    filesystem.Transport.global_state.clear()
    return tmp_path / "broker"


def queued_envelopes(broker_folder: Path) -> list[dict[str, object]]:
    """Take every envelope off the inbox queue, as the monolith's worker would."""
    envelopes: list[dict[str, object]] = []
    options = filesystem_transport_options(broker_folder)
    with Connection("filesystem://", transport_options=options) as broker:
        bound = webhook_queue()(broker.default_channel)
        bound.declare()
        while (message := bound.get(no_ack=True)) is not None:
            assert message.body is not None
            envelopes.append(json.loads(message.body))
    return envelopes


def stripe_signed(body: bytes, secret: str) -> dict[str, str]:
    """The Stripe-Signature header made by the stripe library itself."""
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(time.time())
    )
    return {"Stripe-Signature": header}


@schema.parametrize()
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_inline_webhook_operations_conform_to_the_contract(case, inline_receivers):
    contract_case_check(case, WSGIHandler())


def payment_posted(client: Client, *, secret: str) -> Any:
    """The recorded payment event, signed with ``secret``, to the monolith's receiver path."""
    return client.post(
        "/webhooks/payments",
        data=RECORDED_PAYMENT,
        content_type="application/json",
        headers=stripe_signed(RECORDED_PAYMENT, secret),
    )


def test_a_payment_webhook_with_a_bad_signature_is_a_401_problem_and_queues_nothing(
    client: Client, inline_receivers: Path
):
    response = payment_posted(client, secret="whsec_somebody_else_000000000000000")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/problems/signature-invalid",
        "title": "Unauthorized",
        "status": 401,
    }
    assert queued_envelopes(inline_receivers) == []


def test_a_payment_webhook_signed_right_is_queued_for_the_worker(
    client: Client, inline_receivers: Path
):
    response = payment_posted(client, secret=PAYMENT_SECRET)

    assert response.status_code == 202, response.content
    [envelope] = queued_envelopes(inline_receivers)
    assert envelope["source"] == "payments"


@pytest.mark.parametrize("placement", ["function", "cloud-function"])
def test_in_the_function_placements_the_monolith_answers_webhooks_with_a_404_problem(
    client: Client, settings, placement
):
    settings.WEBHOOK_RECEIVERS_PLACEMENT = placement
    assert placement_check() == []

    response = payment_posted(client, secret="whsec_any_0000000000000000000000")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404
    assert "webhook functions" in problem["detail"]


def test_a_signed_payment_nested_a_thousand_levels_deep_is_a_400_problem_not_a_503(
    client: Client, inline_receivers: Path
):
    nested = b"[" * 1000 + b"]" * 1000

    response = client.post(
        "/webhooks/payments",
        data=nested,
        content_type="application/json",
        headers=stripe_signed(nested, PAYMENT_SECRET),
    )

    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-request"
    assert queued_envelopes(inline_receivers) == []

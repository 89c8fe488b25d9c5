"""Stripe-compatible signatures: interoperable with the stripe library, strict on every failure."""

import time
from typing import Any

import pytest
import stripe
from contract_testing import CONTRACT_SETTINGS, fixture_bytes
from hypothesis import given
from hypothesis import strategies as st
from tessera_contract.signing import (
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureMismatchError,
    StripeSignatureSigner,
    StripeSignatureVerifier,
    TimestampOutsideToleranceError,
)

SECRET = "whsec_test_5f1d0c1e9b3a4c7e8d2f6a0b1c3d5e7f"
NEXT_SECRET = "whsec_test_a9c8b7d6e5f4a3b2c1d0e9f8a7b6c5d4"
BODY = fixture_bytes("payment_intent.succeeded.json")


@CONTRACT_SETTINGS
@given(st.text(max_size=2000))
def test_signatures_we_make_verify_with_the_stripe_library(text: str) -> None:
    body = text.encode()
    header = StripeSignatureSigner([SECRET]).header(body)

    assert stripe.WebhookSignature.verify_header(body, header, SECRET, tolerance=300)


@CONTRACT_SETTINGS
@given(st.text(max_size=2000))
def test_signatures_the_stripe_library_makes_verify_with_our_code(text: str) -> None:
    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(text, SECRET, timestamp=now)

    assert StripeSignatureVerifier([SECRET]).verify(text.encode(), header) == now


def test_a_header_signed_with_two_secrets_verifies_with_either_in_the_stripe_library() -> None:
    header = StripeSignatureSigner([NEXT_SECRET, SECRET]).header(BODY)

    assert header.count("v1=") == 2
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=300)
    assert stripe.WebhookSignature.verify_header(BODY, header, NEXT_SECRET, tolerance=300)


def test_rotation_a_verifier_with_old_and_new_secrets_accepts_both_senders() -> None:
    verifier = StripeSignatureVerifier([NEXT_SECRET, SECRET])

    verifier.verify(BODY, StripeSignatureSigner([SECRET]).header(BODY))
    verifier.verify(BODY, StripeSignatureSigner([NEXT_SECRET]).header(BODY))


def test_rotation_a_retired_secret_no_longer_verifies() -> None:
    with pytest.raises(SignatureMismatchError):
        StripeSignatureVerifier([NEXT_SECRET]).verify(
            BODY, StripeSignatureSigner([SECRET]).header(BODY)
        )


def test_a_header_with_several_signatures_verifies_when_any_one_matches() -> None:
    valid = StripeSignatureSigner([SECRET]).header(BODY)
    timestamp, signature = valid.split(",")
    header = f"{timestamp},v1={'0' * 64},{signature},v0=ignored"

    assert StripeSignatureVerifier([SECRET]).verify(BODY, header) == int(timestamp[2:])


def test_the_signed_timestamp_is_returned() -> None:
    header = StripeSignatureSigner([SECRET]).header(BODY, timestamp=1_793_001_600)

    assert (
        StripeSignatureVerifier([SECRET]).verify(BODY, header, now=1_793_001_650) == 1_793_001_600
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", SignatureMismatchError),
        ("tampered body", SignatureMismatchError),
        ("tampered signature", SignatureMismatchError),
        ("stale timestamp", TimestampOutsideToleranceError),
        ("future timestamp", TimestampOutsideToleranceError),
        ("missing header", MissingSignatureError),
        ("empty header", MissingSignatureError),
        ("no timestamp", MalformedSignatureError),
        ("timestamp not a number", MalformedSignatureError),
        ("two timestamps", MalformedSignatureError),
        ("no v1 signature", MalformedSignatureError),
        ("item without '='", MalformedSignatureError),
        ("huge header", MalformedSignatureError),
        ("too many signatures", MalformedSignatureError),
    ],
)
def test_failure_matrix(case: str, expected: type[SignatureError]) -> None:
    now = 1_793_001_600
    body = BODY
    header: str | None = StripeSignatureSigner([SECRET]).header(BODY, timestamp=now)
    assert header is not None
    timestamp, signature = header.split(",")
    if case == "wrong secret":
        header = StripeSignatureSigner([NEXT_SECRET]).header(BODY, timestamp=now)
    elif case == "tampered body":
        body = BODY.replace(b"4990", b"1")
    elif case == "tampered signature":
        header = f"{timestamp},v1={signature[3:][::-1]}"
    elif case == "stale timestamp":
        header = StripeSignatureSigner([SECRET]).header(BODY, timestamp=now - 301)
    elif case == "future timestamp":
        header = StripeSignatureSigner([SECRET]).header(BODY, timestamp=now + 301)
    elif case == "missing header":
        header = None
    elif case == "empty header":
        header = "  "
    elif case == "no timestamp":
        header = signature
    elif case == "timestamp not a number":
        header = f"t=soon,{signature}"
    elif case == "two timestamps":
        header = f"{timestamp},{timestamp},{signature}"
    elif case == "no v1 signature":
        header = f"{timestamp},v0={signature[3:]}"
    elif case == "item without '='":
        header = f"{timestamp},{signature},garbage"
    elif case == "huge header":
        header = f"{timestamp}," + ",".join([signature] * 100)
    elif case == "too many signatures":
        header = f"{timestamp}," + ",".join([signature] * 17)

    with pytest.raises(expected) as raised:
        StripeSignatureVerifier([SECRET]).verify(body, header, now=now)

    assert isinstance(raised.value, SignatureError)
    assert SECRET not in str(raised.value)
    assert signature[3:] not in str(raised.value)


def test_a_timestamp_just_inside_the_tolerance_is_accepted() -> None:
    header = StripeSignatureSigner([SECRET]).header(BODY, timestamp=1_000)

    StripeSignatureVerifier([SECRET], tolerance_seconds=300).verify(BODY, header, now=1_300)
    StripeSignatureVerifier([SECRET], tolerance_seconds=300).verify(BODY, header, now=700)


@pytest.mark.parametrize("secrets", [[], [""], "whsec_a_single_string"])
def test_configuration_without_usable_secrets_is_refused(secrets: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        StripeSignatureVerifier(secrets)

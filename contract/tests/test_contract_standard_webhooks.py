"""Standard Webhooks signatures: interoperable with the reference library, strict on failures."""

import base64
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
from contract_testing import CONTRACT_SETTINGS, fixture_bytes
from hypothesis import given
from hypothesis import strategies as st
from tessera_contract.signing import (
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureMismatchError,
    StandardWebhookSigner,
    StandardWebhookVerifier,
    TimestampOutsideToleranceError,
    secret_list_parse,
    standard_webhook_secret_generate,
)

SECRET = "whsec_" + base64.b64encode(b"carrier-secret-for-the-tests-01").decode()
NEXT_SECRET = "whsec_" + base64.b64encode(b"carrier-secret-for-the-tests-02").decode()
BODY = fixture_bytes("shipment.delivered.json")
MESSAGE_ID = "msg_2vXq8cN1aB7d"


@CONTRACT_SETTINGS
@given(st.text(max_size=2000))
def test_signatures_we_make_verify_with_the_standardwebhooks_library(text: str) -> None:
    body = text.encode()
    headers = StandardWebhookSigner([SECRET]).headers(body, message_id=MESSAGE_ID)

    standardwebhooks.Webhook(SECRET).verify(body, headers, json_parse=False)


@CONTRACT_SETTINGS
@given(st.text(max_size=2000))
def test_signatures_the_standardwebhooks_library_makes_verify_with_our_code(text: str) -> None:
    signed_at = datetime.now(tz=UTC)
    signature = standardwebhooks.Webhook(SECRET).sign(MESSAGE_ID, signed_at, text)
    headers = {
        "webhook-id": MESSAGE_ID,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": signature,
    }

    delivery = StandardWebhookVerifier([SECRET]).verify(text.encode(), headers)

    assert delivery.message_id == MESSAGE_ID
    assert delivery.timestamp == int(signed_at.timestamp())


def test_a_header_signed_with_two_secrets_verifies_with_either_in_the_library() -> None:
    headers = StandardWebhookSigner([NEXT_SECRET, SECRET]).headers(BODY, message_id=MESSAGE_ID)

    assert len(headers["webhook-signature"].split()) == 2
    standardwebhooks.Webhook(SECRET).verify(BODY, headers, json_parse=False)
    standardwebhooks.Webhook(NEXT_SECRET).verify(BODY, headers, json_parse=False)


def test_rotation_a_verifier_with_old_and_new_secrets_accepts_both_senders() -> None:
    verifier = StandardWebhookVerifier(secret_list_parse(f"{NEXT_SECRET}, {SECRET}"))

    verifier.verify(BODY, StandardWebhookSigner([SECRET]).headers(BODY, message_id=MESSAGE_ID))
    verifier.verify(BODY, StandardWebhookSigner([NEXT_SECRET]).headers(BODY, message_id=MESSAGE_ID))


def test_rotation_a_retired_secret_no_longer_verifies() -> None:
    headers = StandardWebhookSigner([SECRET]).headers(BODY, message_id=MESSAGE_ID)

    with pytest.raises(SignatureMismatchError):
        StandardWebhookVerifier([NEXT_SECRET]).verify(BODY, headers)


def test_header_names_are_matched_in_any_letter_case() -> None:
    headers = StandardWebhookSigner([SECRET]).headers(BODY, message_id=MESSAGE_ID)
    shouted = {name.upper(): value for name, value in headers.items()}
    wsgi_style = {name.title(): value for name, value in headers.items()}

    StandardWebhookVerifier([SECRET]).verify(BODY, shouted)
    StandardWebhookVerifier([SECRET]).verify(BODY, wsgi_style)


def test_asymmetric_and_unknown_signature_versions_are_skipped() -> None:
    headers = StandardWebhookSigner([SECRET]).headers(BODY, message_id=MESSAGE_ID)
    headers["webhook-signature"] = "v1a,AAAA v2,BBBB " + headers["webhook-signature"]

    StandardWebhookVerifier([SECRET]).verify(BODY, headers)


def _signed(
    timestamp: int, *, secret: str = SECRET, message_id: str = MESSAGE_ID
) -> dict[str, str]:
    return StandardWebhookSigner([secret]).headers(BODY, message_id=message_id, timestamp=timestamp)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", SignatureMismatchError),
        ("tampered body", SignatureMismatchError),
        ("tampered message id", SignatureMismatchError),
        ("tampered timestamp", SignatureMismatchError),
        ("stale timestamp", TimestampOutsideToleranceError),
        ("future timestamp", TimestampOutsideToleranceError),
        ("missing id", MissingSignatureError),
        ("missing timestamp", MissingSignatureError),
        ("missing signature", MissingSignatureError),
        ("timestamp not a number", MalformedSignatureError),
        ("signature without version", MalformedSignatureError),
        ("signature not base64", MalformedSignatureError),
        ("only unknown versions", MalformedSignatureError),
        ("message id with spaces", MalformedSignatureError),
        ("too many signatures", MalformedSignatureError),
    ],
)
def test_failure_matrix(case: str, expected: type[SignatureError]) -> None:
    now = 1_793_001_600
    body = BODY
    headers = _signed(now)
    signature = headers["webhook-signature"]
    if case == "wrong secret":
        headers = _signed(now, secret=NEXT_SECRET)
    elif case == "tampered body":
        body = BODY.replace(b"delivered", b"exception")
    elif case == "tampered message id":
        headers["webhook-id"] = "msg_someone_else"
    elif case == "tampered timestamp":
        headers["webhook-timestamp"] = str(now + 1)
    elif case == "stale timestamp":
        headers = _signed(now - 301)
    elif case == "future timestamp":
        headers = _signed(now + 301)
    elif case.startswith("missing "):
        del headers["webhook-" + case.removeprefix("missing ")]
    elif case == "timestamp not a number":
        headers["webhook-timestamp"] = "1793001600.5"
    elif case == "signature without version":
        headers["webhook-signature"] = signature.removeprefix("v1,")
    elif case == "signature not base64":
        headers["webhook-signature"] = "v1,not*base64"
    elif case == "only unknown versions":
        headers["webhook-signature"] = signature.replace("v1,", "v2,")
    elif case == "message id with spaces":
        headers["webhook-id"] = "msg 1"
    elif case == "too many signatures":
        headers["webhook-signature"] = " ".join([signature] * 17)

    with pytest.raises(expected) as raised:
        StandardWebhookVerifier([SECRET]).verify(body, headers, now=now)

    assert isinstance(raised.value, SignatureError)
    assert signature.removeprefix("v1,") not in str(raised.value)


@pytest.mark.parametrize(
    "secret",
    ["whsec_not*base64", "whsec_" + base64.b64encode(b"too short").decode(), "whsec_"],
)
def test_configuration_with_a_bad_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="Standard Webhooks"):
        StandardWebhookVerifier([secret])


def test_generated_secrets_are_accepted_by_both_implementations() -> None:
    secret = standard_webhook_secret_generate()
    headers = StandardWebhookSigner([secret]).headers(BODY, message_id=MESSAGE_ID)

    standardwebhooks.Webhook(secret).verify(BODY, headers, json_parse=False)
    assert StandardWebhookVerifier([secret]).verify(BODY, headers).message_id == MESSAGE_ID
    assert secret != standard_webhook_secret_generate()


def test_signing_refuses_a_message_id_that_would_make_the_signed_content_ambiguous() -> None:
    with pytest.raises(ValueError, match="message_id"):
        StandardWebhookSigner([SECRET]).headers(
            BODY, message_id="msg 1", timestamp=int(time.time())
        )

"""Internal service tokens: issuer, audience, expiry, rotation, tampering."""

import base64
import json
import time

import jwt
import pytest
from tessera_contract.signing import (
    ServiceTokenAudienceError,
    ServiceTokenExpiredError,
    ServiceTokenInvalidError,
)
from tessera_contract.signing.service_tokens import (
    ServiceTokenIssuer,
    ServiceTokenKeyring,
    ServiceTokenVerifier,
)

OLD_KEY = "k2026-10:" + "o" * 40
NEW_KEY = "k2026-11:" + "n" * 40
MONOLITH = "tessera-monolith"
PROCESSING = "tessera-processing"


def _issuer(
    keys: str = OLD_KEY, *, audience: str = PROCESSING, issuer: str = MONOLITH
) -> ServiceTokenIssuer:
    return ServiceTokenIssuer(ServiceTokenKeyring.parse(keys), issuer=issuer, audience=audience)


def _verifier(keys: str = OLD_KEY, **options: int) -> ServiceTokenVerifier:
    return ServiceTokenVerifier(
        ServiceTokenKeyring.parse(keys), audience=PROCESSING, issuers=[MONOLITH], **options
    )


def test_a_fresh_token_verifies_and_names_its_caller() -> None:
    claims = _verifier().verify(_issuer().issue())

    assert claims.issuer == MONOLITH
    assert claims.subject == MONOLITH
    assert claims.audience == PROCESSING
    assert claims.expires_at - claims.issued_at == 60
    assert len(claims.token_id) == 32


def test_each_token_has_its_own_id() -> None:
    issuer = _issuer()

    assert (
        _verifier().verify(issuer.issue()).token_id != _verifier().verify(issuer.issue()).token_id
    )


def test_a_token_for_another_service_is_refused() -> None:
    token = _issuer(audience="tessera-functions").issue()

    with pytest.raises(ServiceTokenAudienceError):
        _verifier().verify(token)


def test_a_token_from_an_unknown_issuer_is_refused() -> None:
    token = _issuer(issuer="tessera-sandbox").issue()

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(token)


def test_an_expired_token_is_refused() -> None:
    token = _issuer().issue(now=time.time() - 120)

    with pytest.raises(ServiceTokenExpiredError):
        _verifier(leeway_seconds=30).verify(token)


def test_a_token_just_past_expiry_is_accepted_within_the_clock_leeway() -> None:
    token = _issuer().issue(now=time.time() - 70)

    assert _verifier(leeway_seconds=30).verify(token).issuer == MONOLITH


def test_a_token_issued_in_the_future_is_refused() -> None:
    token = _issuer().issue(now=time.time() + 600)

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(token)


def test_a_token_minted_to_live_too_long_is_refused() -> None:
    keyring = ServiceTokenKeyring.parse(OLD_KEY)
    token = ServiceTokenIssuer(
        keyring, issuer=MONOLITH, audience=PROCESSING, ttl_seconds=3600
    ).issue()

    with pytest.raises(ServiceTokenInvalidError):
        _verifier(max_ttl_seconds=300).verify(token)


def _tamper_claims(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_token_with_altered_claims_is_refused() -> None:
    token = _tamper_claims(_issuer().issue(), aud=PROCESSING, iss=MONOLITH, exp=4_000_000_000)

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(token)


def test_a_token_with_an_altered_signature_is_refused() -> None:
    token = _issuer().issue()
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(f"{header}.{payload}.{flipped}")


def test_an_unsigned_token_is_refused() -> None:
    claims: dict[str, object] = {"iss": MONOLITH, "sub": MONOLITH, "aud": PROCESSING, "jti": "x"}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key="", algorithm="none", headers={"kid": "k2026-10"})

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(token)


def test_a_token_without_a_key_id_or_with_an_unknown_key_is_refused() -> None:
    claims: dict[str, object] = {"iss": MONOLITH, "sub": MONOLITH, "aud": PROCESSING, "jti": "x"}
    claims |= {"iat": int(time.time()), "exp": int(time.time()) + 60}
    no_kid = jwt.encode(claims, "o" * 40, algorithm="HS256")
    unknown_kid = jwt.encode(claims, "o" * 40, algorithm="HS256", headers={"kid": "k1999"})

    for token in (no_kid, unknown_kid, "not-a-token"):
        with pytest.raises(ServiceTokenInvalidError):
            _verifier().verify(token)


def test_a_token_missing_a_required_claim_is_refused() -> None:
    claims = {"iss": MONOLITH, "aud": PROCESSING, "iat": int(time.time())}
    claims |= {"exp": int(time.time()) + 60}
    token = jwt.encode(claims, "o" * 40, algorithm="HS256", headers={"kid": "k2026-10"})

    with pytest.raises(ServiceTokenInvalidError):
        _verifier().verify(token)


def test_rotation_verifiers_holding_both_keys_accept_tokens_from_either() -> None:
    verifier = _verifier(f"{NEW_KEY},{OLD_KEY}")

    assert verifier.verify(_issuer(OLD_KEY).issue()).issuer == MONOLITH
    assert verifier.verify(_issuer(f"{NEW_KEY},{OLD_KEY}").issue()).issuer == MONOLITH


def test_rotation_a_removed_key_no_longer_verifies() -> None:
    token = _issuer(OLD_KEY).issue()

    with pytest.raises(ServiceTokenInvalidError):
        _verifier(NEW_KEY).verify(token)


def test_the_first_configured_key_signs() -> None:
    token = _issuer(f"{NEW_KEY},{OLD_KEY}").issue()

    assert jwt.get_unverified_header(token)["kid"] == "k2026-11"


def test_authorization_headers_round_trip_and_other_schemes_are_refused() -> None:
    header = _issuer().authorization_header()

    assert _verifier().verify_authorization_header(header).issuer == MONOLITH
    for value in (None, "", header.replace("Bearer", "Basic"), "Bearer"):
        with pytest.raises(ServiceTokenInvalidError):
            _verifier().verify_authorization_header(value)


@pytest.mark.parametrize(
    "keys", ["k1:short", "no-colon-here", "k 1:" + "x" * 40, "", "k1:" + "x" * 40 + ",broken"]
)
def test_bad_key_configuration_is_refused(keys: str) -> None:
    with pytest.raises(ValueError, match=r"key|keys"):
        ServiceTokenKeyring.parse(keys)


def test_errors_do_not_leak_the_token_or_the_key() -> None:
    token = _issuer(audience="tessera-functions").issue()

    with pytest.raises(ServiceTokenAudienceError) as raised:
        _verifier().verify(token)

    assert token not in str(raised.value)
    assert "o" * 40 not in str(raised.value)
    assert raised.value.__cause__ is None

"""The one nesting scan every JSON entry point runs before parsing."""

import pytest
from tessera_contract.json_limits import (
    JSON_MAX_DEPTH,
    json_media_type_accepted,
    json_nesting_exceeded,
)
from tessera_contract.models.codec import MalformedPayloadError, payload_decode
from tessera_contract.models.jobs import JobResult


def nested(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"[]" + b"}" * (depth - 1)


def test_nesting_up_to_the_limit_passes_and_one_level_more_is_refused() -> None:
    assert not json_nesting_exceeded(nested(JSON_MAX_DEPTH))
    assert json_nesting_exceeded(nested(JSON_MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count() -> None:
    body = b'{"note": "' + b"[{" * 500 + b'\\"[", "more": [1, 2]}'

    assert not json_nesting_exceeded(body)


def test_the_codec_refuses_a_thousand_levels_as_malformed_instead_of_recursing() -> None:
    with pytest.raises(MalformedPayloadError, match="deeper than 32 levels"):
        payload_decode(b"[" * 1000 + b"]" * 1000, JobResult)


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("text/plain", False),
        ("", False),
        (None, False),
    ],
)
def test_only_a_json_content_type_is_accepted(content_type: str | None, accepted: bool) -> None:
    assert json_media_type_accepted(content_type) is accepted

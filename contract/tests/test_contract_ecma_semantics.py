"""The models read numbers and patterns as JSON Schema does, not as Python would.

- A whole-number float (640.0, 6.4e2) is an integer in JSON Schema; msgspec alone refuses it
  where the model says int.
- Schema patterns are ECMA-262 regular expressions: their \\s is ECMA's set of white space,
  which is not Python's (Python adds U+001C-U+001F and U+0085, and lacks U+FEFF).
"""

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from contract_testing import SCHEMAS_DIR, schema_validator
from tessera_contract.models import PayloadError, ResultLocation, payload_decode
from tessera_contract.models.base import pattern_for_python
from tessera_contract.models.codec import MalformedPayloadError
from tessera_contract.models.jobs import InvoiceCustomer, JobCreateRequest

RENDITIONS = {
    "kind": "image_renditions",
    "subject": {"type": "product_image", "reference": "42"},
    "input": {"source_location": "products/42.jpg", "widths": [320], "formats": ["webp"]},
}

# ECMA-262 (22.2.2.9, CharacterClassEscape :: s): WhiteSpace is TAB, VT, FF, ZWNBSP and any
# code point of the Unicode category "Zs"; LineTerminator is LF, CR, LS and PS.
ECMA_WHITE_SPACE = {"\t", "\x0b", "\x0c", "\ufeff", "\n", "\r", "\u2028", "\u2029"} | {
    chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Zs"
}
PYTHON_WHITE_SPACE = {chr(code) for code in range(0x110000) if chr(code).isspace()}


def renditions_with_widths(widths: str) -> str:
    return json.dumps(RENDITIONS).replace("[320]", widths)


def accepts(raw: str, model: Any) -> bool:
    try:
        payload_decode(raw, model)
    except PayloadError:
        return False
    return True


@pytest.mark.parametrize("widths", ["[640.0]", "[6.4e2]", "[64E1]", "[640.000]", "[16.0, 8192.0]"])
def test_a_whole_number_float_is_the_integer_the_schema_accepts(widths: str) -> None:
    raw = renditions_with_widths(widths)
    assert schema_validator("job-create-request.json").is_valid(json.loads(raw))

    request = payload_decode(raw, JobCreateRequest)

    assert request.input.widths == [int(float(w)) for w in json.loads(widths)]
    assert all(type(width) is int for width in request.input.widths)


@pytest.mark.parametrize(
    "widths",
    [
        "[640.5]",  # not whole
        "[15.0]",  # whole, below the minimum
        "[8193.0]",  # whole, above the maximum
        '["640"]',  # a string is never a number
        "[1e400]",  # overflows a double: must not turn into null
        "[1e999999999]",  # an exponent that must not be expanded into a huge int
    ],
)
def test_floats_the_schema_refuses_are_refused(widths: str) -> None:
    raw = renditions_with_widths(widths)
    document = json.loads(raw)
    assert not schema_validator("job-create-request.json").is_valid(document)

    with pytest.raises(PayloadError):
        payload_decode(raw, JobCreateRequest)


@pytest.mark.parametrize("raw", [b"1x", b'{"kind": 1} trailing', b"[1.0, }"])
def test_bytes_that_are_not_json_stay_malformed_past_a_wrong_type(raw: bytes) -> None:
    # The typed pass refuses the first value's type before it reaches the broken bytes.
    with pytest.raises(MalformedPayloadError):
        payload_decode(raw, JobCreateRequest)


def test_a_whole_float_does_not_pass_where_the_schema_wants_a_string() -> None:
    raw = json.dumps(RENDITIONS).replace('"42"', "42.0")

    assert not accepts(raw, JobCreateRequest)


def test_whole_floats_are_read_as_ints_in_nested_amounts() -> None:
    location = {
        "name": "w640.webp",
        "location": "results/1/w640.webp",
        "media_type": "image/webp",
        "size_bytes": 1.0e3,
        "width": 640.0,
    }

    decoded = payload_decode(json.dumps(location), ResultLocation)

    assert (decoded.size_bytes, decoded.width) == (1000, 640)


@pytest.mark.parametrize(
    "character",
    sorted(ECMA_WHITE_SPACE | PYTHON_WHITE_SPACE | {"a", "-", "\x00", "\x1b", "\u200b"}),
    ids=lambda character: f"U+{ord(character):04X}",
)
def test_white_space_in_locations_and_emails_is_ecma_white_space(character: str) -> None:
    is_white_space = character in ECMA_WHITE_SPACE
    location = {
        "name": "w640.webp",
        "location": f"results/1/w640{character}.webp",
        "media_type": "image/webp",
        "size_bytes": 1,
    }
    customer = {"name": "Ada", "email": f"ada{character}@example.com"}

    assert accepts(json.dumps(location), ResultLocation) is not is_white_space
    assert accepts(json.dumps(customer), InvoiceCustomer) is not is_white_space


def test_the_characters_on_which_python_and_ecma_differ_are_covered() -> None:
    # The test above is only worth something if the two sets really differ.
    assert {"\x1c", "\x1d", "\x1e", "\x1f", "\x85"} <= PYTHON_WHITE_SPACE - ECMA_WHITE_SPACE
    assert {"\ufeff"} == ECMA_WHITE_SPACE - PYTHON_WHITE_SPACE


def test_class_escapes_are_spelled_out_as_ecma_sets() -> None:
    assert pattern_for_python(r"^[^\s]{1,4}$").endswith(r"]{1,4}\Z")
    assert "\\s" not in pattern_for_python(r"^a\sb[^@\s]$")
    assert pattern_for_python(r"^\d\w$") == r"^[0-9][A-Za-z0-9_]\Z"
    assert pattern_for_python(r"^a\$") == r"^a\$"  # an escaped dollar is not an anchor
    with pytest.raises(ValueError, match="not supported"):
        pattern_for_python(r"[^\S]")


def schema_patterns() -> list[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return sorted(found)


NODE_REGEX_CHECK = """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([p, s]) => new RegExp(p, "u").test(s))));
"""


def test_every_schema_pattern_matches_as_a_javascript_engine_matches_it(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ECMA-262 cross-check needs a JavaScript engine")
    probes = sorted(ECMA_WHITE_SPACE | PYTHON_WHITE_SPACE | {"\u0660", "\u00e9", "\n"})
    templates = ["{}", "a{}b", "ada{}@example.com", "ada@exa{}mple.com", "EUR{}", "A1{}"]
    cases = [
        (pattern, template.format(probe))
        for pattern in schema_patterns()
        for template in templates
        for probe in probes
    ]
    cases += [(pattern, "EUR\n") for pattern in schema_patterns()]
    answer = subprocess.run(
        [node, "-e", NODE_REGEX_CHECK],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ecma = json.loads(answer.stdout)
    python = [re.search(pattern_for_python(pattern), text) is not None for pattern, text in cases]

    disagreements = [case for case, a, b in zip(cases, ecma, python, strict=True) if a != b]
    assert disagreements == []

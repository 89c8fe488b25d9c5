"""What every JSON entry point refuses before it parses a body: too deep a nesting, and a
body that does not say it is JSON.

Python's ``json`` and msgspec both recurse per nesting level, so two kilobytes of ``[`` raise
``RecursionError`` deep inside a parser, where each component would answer 500 (or 503, which
tells a webhook sender to retry a body that can never parse). The scan here counts bracket
depth without building anything; every decoder of the platform calls it first
(``tessera_contract.models.codec.payload_decode`` and the DRF parser in
``tessera_runtime.problems.drf``), so one limit holds everywhere. Only the standard library
is imported: the webhook functions' cold start pays nothing for it.
"""

import re

__all__ = [
    "JSON_MAX_DEPTH",
    "JSON_MEDIA_TYPE",
    "json_media_type_accepted",
    "json_nesting_exceeded",
    "json_nesting_refusal",
]

# The deepest nesting any contract payload accepts: the deepest schema (a payment event's
# data.object.metadata) is 4 levels, so 32 leaves every honest client far inside the bound and
# stays far from the interpreter's recursion limit (1000).
JSON_MAX_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"

# A string (brackets inside it do not count) or one bracket; re skips strings in C.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def json_nesting_exceeded(body: bytes | str, max_depth: int = JSON_MAX_DEPTH) -> bool:
    """Whether ``body`` nests arrays and objects deeper than ``max_depth``.

    Not a validator: malformed JSON is left to the parser, which then fails without recursing
    further than ``max_depth`` levels.
    """
    raw = body.encode() if isinstance(body, str) else body
    # Fewer brackets than the limit cannot nest past it: most bodies end here, at C speed.
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    depth = 0
    for token in _TOKEN.finditer(raw):
        character = token.group()[0]
        if character in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        elif character != ord('"'):
            depth -= 1
    return False


def json_nesting_refusal(max_depth: int = JSON_MAX_DEPTH) -> str:
    """The problem detail every component gives for a body nested too deep."""
    return f"The JSON nests arrays and objects deeper than {max_depth} levels."


def json_media_type_accepted(content_type: str | None) -> bool:
    """Whether a Content-Type header announces JSON (``application/json``, any parameters)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE

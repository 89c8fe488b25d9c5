"""W3C Trace Context for messages that cross a queue.

Tessera carries ``traceparent``/``tracestate`` in every queue message so that one trace spans
sender, function, broker and consumer. This module only reads and mints the two header
values; exporting spans is the job of each component's tracing setup.
"""

import os
import re

from tessera_contract.models.base import UNSET, TraceContext

__all__ = ["trace_context_continue"]

_TRACEPARENT = re.compile(r"\A([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\Z")
_TRACESTATE_MAX_LENGTH = 512


def trace_context_continue(traceparent: str | None, tracestate: str | None = None) -> TraceContext:
    """Continue the caller's trace when its ``traceparent`` is valid, or start a new one.

    Invalid input (wrong shape, version ``ff``, all-zero ids) is replaced by a fresh root, as
    the W3C specification asks, rather than rejected: tracing must never fail a request.
    """
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    if match is not None:
        version, trace_id, parent_id, _flags = match.groups()
        if version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16:
            state = tracestate.strip() if tracestate else ""
            if state and len(state) <= _TRACESTATE_MAX_LENGTH:
                return TraceContext(traceparent=match.group(0), tracestate=state)
            return TraceContext(traceparent=match.group(0), tracestate=UNSET)
    # os.urandom is what the secrets module uses underneath, without importing random.
    return TraceContext(traceparent=f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01")

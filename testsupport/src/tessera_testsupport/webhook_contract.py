"""The webhook receivers against contract/openapi.yaml, wherever they run.

The receivers are one WSGI application, served by the webhook functions (their own server,
Lambda, or Google Cloud Functions' functions-framework) or mounted in the monolith
(WEBHOOK_RECEIVERS_PLACEMENT=inline); the suites fuzz it with the same operations,
the same generation settings and the same checks (every status code, content type and body
against the document). Generated requests carry no valid signature, so the webhook
operations answer 401, which the contract documents. Needs schemathesis (both suites have it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis import GenerationMode

WEBHOOKS_TAG = "webhooks"
HEALTH_TAG = "health"
MAX_EXAMPLES = 40

WSGIApplication = Callable[..., Iterable[bytes]]


def contract_operations(contract_path: Path, *, tag: str) -> Any:
    """The contract's operations under ``tag``, fuzzed with valid and invalid input."""
    schema = schemathesis.openapi.from_path(contract_path).include(tag=tag)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
    )
    return schema


def contract_case_check(case: Any, application: WSGIApplication) -> None:
    """Send one generated request to the WSGI application; fail on any answer the contract
    does not allow."""
    case.call_and_validate(app=application)


def contract_case_check_served(case: Any, base_url: str) -> None:
    """Send one generated request over HTTP to a server at ``base_url``; fail on any answer
    the contract does not allow."""
    case.call_and_validate(base_url=base_url)

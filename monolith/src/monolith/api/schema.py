"""drf-spectacular hook: document the problems every storefront operation can answer.

Every operation is tagged `storefront` and lists the RFC 9457 problems it may return, referring
to the contract's shared `ProblemDetails` schema instead of a copy of it.
"""

from __future__ import annotations

from typing import Any

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}
COMMON_PROBLEMS = {
    "400": "Malformed request or invalid parameters.",
    "401": "Authentication failed.",
    "403": "Not allowed, or the CSRF check failed for a session.",
    "404": "No such resource.",
    "406": "The requested media type is not offered.",
    "429": "Too many requests; retry after the Retry-After seconds.",
}
BODY_PROBLEMS = {
    "415": "The body is not JSON.",
    "422": "A business rule refused the request (stock, quantity limits).",
}


def document_problems(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            operation["tags"] = ["storefront"]
            problems = dict(COMMON_PROBLEMS)
            if method in {"post", "put", "patch"}:
                problems.update(BODY_PROBLEMS)
            responses = operation.setdefault("responses", {})
            for code, description in problems.items():
                responses.setdefault(code, {"description": description, "content": PROBLEM_CONTENT})
    return result

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


_BLANK_BRANCH = {"maxLength": 0, "type": "string"}

# The storefront's cart -> order flow as OpenAPI links (operation id, answer codes, links): a
# client, or schemathesis's stateful phase, follows a new cart to its lines and to an order
# with the ids the answers carry instead of guessing them.
# The order's body: the cart just made, a sample address, and the headless storefront's local
# origin to come back to (the server allows only its storefronts' origins there).
_ORDER_BODY = {
    "cart_id": "$response.body#/id",
    "return_url": "http://127.0.0.1:8004/#/orders/{order_id}",
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "1 Canal Street",
        "postal_code": "1011",
        "city": "Amsterdam",
        "country": "NL",
    },
}
_CART_LINKS = {
    "GetCart": {"operationId": "carts_retrieve", "parameters": {"cart_id": "$response.body#/id"}},
    "AddLine": {
        "operationId": "carts_lines_create",
        "parameters": {"cart_id": "$response.body#/id"},
    },
    "PlaceOrder": {"operationId": "orders_create", "requestBody": _ORDER_BODY},
}
_LINE_LINKS = {
    name: {
        "operationId": operation,
        "parameters": {"cart_id": "$response.body#/id", "sku": "$request.body#/sku"},
    }
    for name, operation in (
        ("ChangeLine", "carts_lines_update"),
        ("RemoveLine", "carts_lines_destroy"),
    )
}
STOREFRONT_LINKS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "carts_create": (("200", "201"), _CART_LINKS),
    "carts_lines_create": (("200",), {**_LINE_LINKS, "PlaceOrder": _CART_LINKS["PlaceOrder"]}),
    "orders_create": (
        ("201",),
        {
            "GetOrder": {
                "operationId": "orders_retrieve",
                "parameters": {"order_id": "$response.body#/id"},
            }
        },
    ),
}


def storefront_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Declare the cart -> order flow's links (``STOREFRONT_LINKS``) on its answers."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            codes, links = STOREFRONT_LINKS.get(operation.get("operationId", ""), ((), {}))
            for code in codes:
                operation["responses"][code]["links"] = links
    return result


def blank_strings_any_of(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A blankable text field with a pattern is described as ``oneOf: [the field, blank]``;
    when the field itself accepts "" (no minLength) both branches match "", and a oneOf that
    two branches match refuses the value: the schema rejected its own default. ``anyOf`` says
    what the server does: either branch will do."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            branches = prop.get("oneOf", [])
            if len(branches) == 2 and _BLANK_BRANCH in branches:
                field = next(branch for branch in branches if branch != _BLANK_BRANCH)
                if field.get("type") == "string" and not field.get("minLength"):
                    prop["anyOf"] = prop.pop("oneOf")
    return result


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

"""Helpers for the contract tests: schema files, recorded payloads, a real HTTP server.

A module with its own name (not conftest) so that test files import it unambiguously when
several components' tests run in one pytest session.
"""

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from tessera_contract.models.base import pattern_for_python

CONTRACT_DIR = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = CONTRACT_DIR / "schemas"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

# Applied per test rather than as a global profile, so that running the contract tests in
# one session with other components' tests changes nothing for theirs.
CONTRACT_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def schema_load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


def schema_registry() -> Registry:
    # Resources are registered under their file names, which is what the relative $refs
    # between the schema files resolve to.
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in SCHEMAS_DIR.glob("*.json")
    ]
    return Registry().with_resources(resources)


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    # jsonschema matches "pattern" with Python's re; the schemas' patterns are ECMA-262.
    if validator.is_type(instance, "string") and not re.search(
        pattern_for_python(pattern), instance
    ):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12 with ECMA-262 semantics for "pattern", as the specification asks.
_EcmaValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


def schema_validator(name: str) -> Draft202012Validator:
    """A validator for schema file ``name`` that checks formats (date-time, uuid, date) and
    reads patterns as ECMA-262 regular expressions."""
    schema = dict(schema_load(name))
    schema["$id"] = name
    return _EcmaValidator(
        schema,
        registry=schema_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _pointer(document: Any, fragment: str) -> Any:
    node = document
    for token in (part for part in fragment.split("/") if part):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def schema_bundled(
    name: str, *, closed: bool = False, python_patterns: bool = False
) -> dict[str, Any]:
    """Schema ``name`` with every $ref inlined (hypothesis-jsonschema needs one document).

    ``closed`` forbids properties the schema does not name, so that generated instances
    contain only fields the contract defines. ``python_patterns`` rewrites each ECMA-262
    pattern into the Python regex that means the same (hypothesis-jsonschema compiles them
    with ``re``, whose ``\\s`` is another set of characters).
    """

    def inline(node: Any, file_name: str, depth: int) -> Any:
        if depth > 50:
            raise RecursionError("schema nesting too deep")
        if isinstance(node, list):
            return [inline(item, file_name, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target_file, _, fragment = node["$ref"].partition("#")
            target_file = target_file or file_name
            target = _pointer(schema_load(target_file), fragment)
            merged = dict(inline(target, target_file, depth + 1))
            merged.update(
                {k: inline(v, file_name, depth + 1) for k, v in node.items() if k != "$ref"}
            )
            return merged
        result = {
            key: inline(value, file_name, depth + 1)
            for key, value in node.items()
            if key not in ("$defs", "$schema")
        }
        if closed and "properties" in result:
            result["additionalProperties"] = False
        if python_patterns and isinstance(result.get("pattern"), str):
            result["pattern"] = pattern_for_python(result["pattern"])
        return result

    return inline(schema_load(name), name, 0)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES_DIR / name).read_bytes()


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Callable[[RecordedRequest], ScriptedResponse]


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 that answers from a script and records every request."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: list[ScriptedResponse | Responder] = []
        self._default: ScriptedResponse | Responder = ScriptedResponse(500)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                scripted = server._next(request)
                response = scripted(request) if callable(scripted) else scripted
                if response.delay:
                    threading.Event().wait(response.delay)
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._http.server_address[1]
        return f"http://127.0.0.1:{port}"

    def script(self, *responses: ScriptedResponse | Responder) -> None:
        """Answer the next requests with ``responses`` in order, then with the last one."""
        with self._lock:
            self._script = list(responses)
            self._default = responses[-1]

    def _next(self, request: RecordedRequest) -> ScriptedResponse | Responder:
        with self._lock:
            self.requests.append(request)
            return self._script.pop(0) if self._script else self._default

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

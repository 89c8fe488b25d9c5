"""Contract compatibility check: is the contract still compatible with an earlier revision?

Compares ``contract/openapi.yaml`` and ``contract/asyncapi.yaml`` (with the JSON Schemas they
reference) against the same files at a git revision, and reports every breaking change:

- an operation, success response, channel or message that disappeared;
- a response or message field that disappeared or may now be absent;
- a request field, parameter or request body that became required;
- a type, enum or bound that got narrower where clients send data (requests, messages), or
  wider where clients receive data (responses, messages).

Breaking changes are allowed only together with a new major ``info.version``. Run it as
``python -m tessera_contract.breaking_changes --against <revision>`` (install the ``tools`` extra).
"""

import argparse
import json
import posixpath
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "CompatibilityReport",
    "ContractFiles",
    "Finding",
    "contract_compare",
    "git_revision_files",
    "main",
    "working_tree_files",
]

Direction = Literal["request", "response"]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOCUMENTS = ("openapi.yaml", "asyncapi.yaml")

# Keywords that make a schema stricter when they go up ("min") or down ("max").
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_SHAPE_KEYWORDS = ("pattern", "format")


@dataclass(frozen=True, slots=True)
class Finding:
    """One breaking change, located so that a reader finds it in the document."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class ContractFiles:
    """Reads the contract's files (paths relative to the contract folder) from somewhere."""

    description: str
    read: Callable[[str], str | None]


def working_tree_files(contract_dir: Path) -> ContractFiles:
    """The contract as it is on disk in ``contract_dir``."""

    def read(relative_path: str) -> str | None:
        path = contract_dir / relative_path
        return path.read_text(encoding="utf-8") if path.is_file() else None

    return ContractFiles(description=str(contract_dir), read=read)


def _git() -> str:
    executable = shutil.which("git")
    if executable is None:
        raise RuntimeError("git is not installed")
    return executable


def git_revision_files(repository: Path, revision: str, contract_dir: str) -> ContractFiles:
    """The contract as it was at ``revision`` (any name git understands) in ``repository``."""
    git = _git()
    verified = subprocess.run(  # noqa: S603 - fixed executable and arguments, no shell
        [git, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )
    if verified.returncode != 0:
        raise ValueError(f"{revision!r} is not a commit in {repository}")
    commit = verified.stdout.strip()

    def read(relative_path: str) -> str | None:
        shown = subprocess.run(  # noqa: S603 - fixed executable and arguments, no shell
            [git, "show", f"{commit}:{posixpath.join(contract_dir, relative_path)}"],
            cwd=repository,
            capture_output=True,
            check=False,
        )
        return shown.stdout.decode("utf-8") if shown.returncode == 0 else None

    return ContractFiles(description=f"{revision} ({commit[:12]})", read=read)


class _Documents:
    """Loads documents once and follows ``$ref`` across files."""

    def __init__(self, files: ContractFiles) -> None:
        self._files = files
        self._cache: dict[str, Any] = {}

    def load(self, path: str) -> Any:
        if path not in self._cache:
            text = self._files.read(path)
            if text is None:
                raise FileNotFoundError(f"{path} is missing in {self._files.description}")
            self._cache[path] = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        return self._cache[path]

    def exists(self, path: str) -> bool:
        return self._files.read(path) is not None

    def resolve(self, node: Any, base: str) -> tuple[Any, str]:
        """Follow ``$ref`` (chains included) from ``node`` in document ``base``."""
        seen: set[tuple[str, str]] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            reference: str = node["$ref"]
            if (base, reference) in seen:
                raise ValueError(f"circular $ref {reference} in {base}")
            seen.add((base, reference))
            target, _, fragment = reference.partition("#")
            if target:
                base = posixpath.normpath(posixpath.join(posixpath.dirname(base), target))
            node = _pointer_get(self.load(base), fragment)
        return node, base


def _pointer_get(document: Any, fragment: str) -> Any:
    node = document
    for token in (part for part in fragment.split("/") if part):
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@dataclass(slots=True)
class _SchemaComparison:
    """Walks an old and a new schema side by side and collects what breaks whom.

    ``direction`` says who holds the data: "request" data is written by clients (narrowing
    breaks them), "response" data is read by clients (widening breaks them).
    """

    old: _Documents
    new: _Documents
    findings: list[Finding] = field(default_factory=list)
    # Pairs already compared: a schema shared by many operations is reported once, and a
    # recursive schema cannot loop forever.
    _visited: set[tuple[int, int, str]] = field(default_factory=set)

    def compare(
        self,
        old_node: Any,
        old_base: str,
        new_node: Any,
        new_base: str,
        direction: Direction,
        location: str,
    ) -> None:
        old_schema, old_base = self.old.resolve(old_node, old_base)
        new_schema, new_base = self.new.resolve(new_node, new_base)
        old_schema, new_schema = _as_schema(old_schema), _as_schema(new_schema)
        visit = (id(old_schema), id(new_schema), direction)
        if visit in self._visited:
            return
        self._visited.add(visit)

        old_variants, old_nullable = _variants(self.old, old_schema, old_base)
        new_variants, new_nullable = _variants(self.new, new_schema, new_base)
        if old_nullable and not new_nullable and direction == "request":
            self._report(location, "no longer accepts null")
        if new_nullable and not old_nullable and direction == "response":
            self._report(location, "may now be null")
        if len(old_variants) > 1 or len(new_variants) > 1:
            self._compare_variants(old_variants, new_variants, direction, location)
            return
        if not old_variants or not new_variants:
            return
        (old_schema, old_base), (new_schema, new_base) = old_variants[0], new_variants[0]
        self._compare_types(old_schema, new_schema, direction, location)
        self._compare_values(old_schema, new_schema, direction, location)
        self._compare_bounds(old_schema, new_schema, direction, location)
        self._compare_objects(old_schema, old_base, new_schema, new_base, direction, location)
        if "items" in old_schema and "items" in new_schema:
            self.compare(
                old_schema["items"],
                old_base,
                new_schema["items"],
                new_base,
                direction,
                f"{location}[]",
            )

    def _report(self, location: str, message: str) -> None:
        self.findings.append(Finding(location or "$", message))

    def _compare_variants(
        self,
        old_variants: list[tuple[Any, str]],
        new_variants: list[tuple[Any, str]],
        direction: Direction,
        location: str,
    ) -> None:
        old_by_key = dict(_keyed_variants(old_variants))
        new_by_key = dict(_keyed_variants(new_variants))
        for key in old_by_key.keys() - new_by_key.keys():
            if direction == "request":
                self._report(location, f"variant {key} is no longer accepted")
        for key in new_by_key.keys() - old_by_key.keys():
            if direction == "response":
                self._report(location, f"new variant {key} may now be returned")
        for key in old_by_key.keys() & new_by_key.keys():
            (old_schema, old_base), (new_schema, new_base) = old_by_key[key], new_by_key[key]
            self.compare(
                old_schema, old_base, new_schema, new_base, direction, f"{location}<{key}>"
            )

    def _compare_types(
        self, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction, location: str
    ) -> None:
        # Null is handled as nullability in compare(), not as a type here.
        old_types, new_types = _types(old, without_null=True), _types(new, without_null=True)
        if direction == "request":
            if old_types is None and new_types is not None:
                self._report(location, f"type narrowed from any to {_sorted(new_types)}")
            elif old_types is not None and new_types is not None:
                lost = {t for t in old_types if not _type_covered(t, new_types)}
                if lost:
                    self._report(location, f"type narrowed: {_sorted(lost)} no longer accepted")
        else:
            if old_types is not None and new_types is None:
                self._report(location, f"type widened from {_sorted(old_types)} to any")
            elif old_types is not None and new_types is not None:
                gained = {t for t in new_types if not _type_covered(t, old_types)}
                if gained:
                    self._report(location, f"type changed: {_sorted(gained)} may now be returned")

    def _compare_values(
        self, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction, location: str
    ) -> None:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if direction == "request":
            if old_values is None and new_values is not None:
                self._report(location, f"narrowed to the values {_sorted(new_values)}")
            elif old_values is not None and new_values is not None:
                removed = old_values - new_values
                if removed:
                    self._report(location, f"values {_sorted(removed)} no longer accepted")
        else:
            if old_values is not None and new_values is None:
                self._report(location, "no longer limited to a fixed set of values")
            elif old_values is not None and new_values is not None:
                added = new_values - old_values
                if added:
                    self._report(location, f"new values {_sorted(added)} may now be returned")

    def _compare_bounds(
        self, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction, location: str
    ) -> None:
        for keyword in _LOWER_BOUNDS + _UPPER_BOUNDS:
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            raised = keyword in _LOWER_BOUNDS
            if before is None:
                tighter = True
            elif after is None:
                tighter = False
            else:
                tighter = after > before if raised else after < before
            if tighter and direction == "request":
                self._report(location, f"{keyword} tightened from {before} to {after}")
            if not tighter and direction == "response":
                self._report(location, f"{keyword} loosened from {before} to {after}")
        for keyword in _SHAPE_KEYWORDS:
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if after is not None and direction == "request":
                self._report(location, f"{keyword} changed from {before!r} to {after!r}")
            if before is not None and direction == "response":
                self._report(location, f"{keyword} changed from {before!r} to {after!r}")

    def _compare_objects(
        self,
        old: Mapping[str, Any],
        old_base: str,
        new: Mapping[str, Any],
        new_base: str,
        direction: Direction,
        location: str,
    ) -> None:
        old_properties: Mapping[str, Any] = old.get("properties") or {}
        new_properties: Mapping[str, Any] = new.get("properties") or {}
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(old_properties.keys() - new_properties.keys()):
            kind = "request" if direction == "request" else "response"
            self._report(_join(location, name), f"{kind} field removed")
        if direction == "request":
            for name in sorted(new_required - old_required):
                self._report(_join(location, name), "new required request field")
            if old.get("additionalProperties", True) is not False and (
                new.get("additionalProperties", True) is False
            ):
                self._report(location, "no longer accepts additional properties")
        else:
            for name in sorted((old_required - new_required) & new_properties.keys()):
                self._report(_join(location, name), "response field may now be absent")
        for name in sorted(old_properties.keys() & new_properties.keys()):
            self.compare(
                old_properties[name],
                old_base,
                new_properties[name],
                new_base,
                direction,
                _join(location, name),
            )


def _variants(
    docs: _Documents, schema: Mapping[str, Any], base: str
) -> tuple[list[tuple[Any, str]], bool]:
    """Split oneOf/anyOf into resolved variants; a null type or variant becomes a flag."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return [(schema, base)], "null" in (_types(schema) or set())
    variants: list[tuple[Any, str]] = []
    nullable = False
    for branch in branches:
        resolved, resolved_base = docs.resolve(branch, base)
        resolved = _as_schema(resolved)
        if _types(resolved) == {"null"}:
            nullable = True
        else:
            variants.append((resolved, resolved_base))
    return variants, nullable


def _as_schema(node: Any) -> Mapping[str, Any]:
    if node is True:
        return {}
    if node is False:
        return {"not": {}}
    if not isinstance(node, Mapping):
        raise TypeError(f"not a schema: {node!r}")
    return node


def _types(schema: Mapping[str, Any], *, without_null: bool = False) -> set[str] | None:
    declared = schema.get("type")
    types: set[str] | None = None
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = set(declared)
    else:
        values = _allowed_values(schema)
        if values is not None:
            types = {_json_type(json.loads(value)) for value in values}
    if types is not None and without_null:
        types.discard("null")
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_covered(json_type: str, types: set[str]) -> bool:
    return json_type in types or (json_type == "integer" and "number" in types)


def _allowed_values(schema: Mapping[str, Any]) -> set[str] | None:
    # Values are compared in their JSON spelling so that 1, "1" and true stay distinct.
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if "enum" in schema:
        return {json.dumps(value, sort_keys=True) for value in schema["enum"]}
    return None


def _keyed_variants(variants: list[tuple[Any, str]]) -> Iterator[tuple[str, tuple[Any, str]]]:
    """Name each variant by its discriminating const property, else by its position."""
    for position, (schema, base) in enumerate(variants):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        constants = [
            f"{name}={json.dumps(prop['const'])}"
            for name, prop in sorted(properties.items())
            if isinstance(prop, Mapping) and "const" in prop
        ]
        yield (constants[0] if constants else f"#{position}"), (schema, base)


def _sorted(values: set[str]) -> str:
    return ", ".join(sorted(values))


def _join(location: str, name: str) -> str:
    return f"{location}.{name}" if location else name


def _major(version: Any) -> int | None:
    try:
        return int(str(version).split(".", 1)[0])
    except ValueError:
        return None


def _openapi_compare(old: _Documents, new: _Documents, comparison: _SchemaComparison) -> None:
    document = "openapi.yaml"
    old_paths: Mapping[str, Any] = old.load(document).get("paths") or {}
    new_paths: Mapping[str, Any] = new.load(document).get("paths") or {}
    for path, old_item in old_paths.items():
        new_item = new_paths.get(path) or {}
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            operation = f"{method.upper()} {path}"
            if method not in new_item:
                comparison.findings.append(Finding(operation, "operation removed"))
                continue
            _operation_compare(
                comparison,
                operation,
                old_item[method],
                old_item.get("parameters", []),
                new_item[method],
                new_item.get("parameters", []),
            )


def _parameters(
    docs: _Documents, path_level: Sequence[Any], operation: Mapping[str, Any]
) -> dict[tuple[str, str], Mapping[str, Any]]:
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*path_level, *operation.get("parameters", [])]:
        parameter, _ = docs.resolve(raw, "openapi.yaml")
        name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
        by_key[(parameter["in"], name)] = parameter
    return by_key


def _operation_compare(
    comparison: _SchemaComparison,
    operation: str,
    old_operation: Mapping[str, Any],
    old_path_parameters: Sequence[Any],
    new_operation: Mapping[str, Any],
    new_path_parameters: Sequence[Any],
) -> None:
    old_docs, new_docs = comparison.old, comparison.new
    old_parameters = _parameters(old_docs, old_path_parameters, old_operation)
    new_parameters = _parameters(new_docs, new_path_parameters, new_operation)
    for (place, name), parameter in new_parameters.items():
        previous = old_parameters.get((place, name))
        if parameter.get("required") and not (previous and previous.get("required")):
            comparison.findings.append(
                Finding(f"{operation} {place} parameter {name}", "new required parameter")
            )
        if previous is not None and "schema" in previous and "schema" in parameter:
            comparison.compare(
                previous["schema"],
                "openapi.yaml",
                parameter["schema"],
                "openapi.yaml",
                "request",
                f"{operation} {place} parameter {name}",
            )

    old_body, _ = old_docs.resolve(old_operation.get("requestBody", {}), "openapi.yaml")
    new_body, _ = new_docs.resolve(new_operation.get("requestBody", {}), "openapi.yaml")
    if new_body.get("required") and not old_body.get("required"):
        comparison.findings.append(Finding(f"{operation} request body", "became required"))
    for media_type, old_media in (old_body.get("content") or {}).items():
        new_media = (new_body.get("content") or {}).get(media_type)
        location = f"{operation} request body ({media_type})"
        if new_media is None:
            comparison.findings.append(Finding(location, "media type no longer accepted"))
        elif "schema" in old_media and "schema" in new_media:
            comparison.compare(
                old_media["schema"],
                "openapi.yaml",
                new_media["schema"],
                "openapi.yaml",
                "request",
                location,
            )

    old_responses: Mapping[str, Any] = old_operation.get("responses") or {}
    new_responses: Mapping[str, Any] = new_operation.get("responses") or {}
    for status, old_raw in old_responses.items():
        location = f"{operation} response {status}"
        if status not in new_responses:
            if str(status).startswith("2"):
                comparison.findings.append(Finding(location, "success response removed"))
            continue
        old_response, _ = old_docs.resolve(old_raw, "openapi.yaml")
        new_response, _ = new_docs.resolve(new_responses[status], "openapi.yaml")
        for media_type, old_media in (old_response.get("content") or {}).items():
            new_media = (new_response.get("content") or {}).get(media_type)
            if new_media is None:
                comparison.findings.append(
                    Finding(f"{location} ({media_type})", "media type no longer returned")
                )
            elif "schema" in old_media and "schema" in new_media:
                comparison.compare(
                    old_media["schema"],
                    "openapi.yaml",
                    new_media["schema"],
                    "openapi.yaml",
                    "response",
                    f"{location} ({media_type})",
                )


def _asyncapi_compare(old: _Documents, new: _Documents, comparison: _SchemaComparison) -> None:
    document = "asyncapi.yaml"
    old_doc, new_doc = old.load(document), new.load(document)
    old_channels: Mapping[str, Any] = old_doc.get("channels") or {}
    new_channels: Mapping[str, Any] = new_doc.get("channels") or {}
    for channel_id, old_raw in old_channels.items():
        location = f"channel {channel_id}"
        if channel_id not in new_channels:
            comparison.findings.append(Finding(location, "channel removed"))
            continue
        old_channel, _ = old.resolve(old_raw, document)
        new_channel, _ = new.resolve(new_channels[channel_id], document)
        if old_channel.get("address") != new_channel.get("address"):
            comparison.findings.append(
                Finding(
                    location,
                    f"address changed from {old_channel.get('address')!r} "
                    f"to {new_channel.get('address')!r}",
                )
            )
        for message_id, old_message_raw in (old_channel.get("messages") or {}).items():
            message_location = f"{location} message {message_id}"
            new_message_raw = (new_channel.get("messages") or {}).get(message_id)
            if new_message_raw is None:
                comparison.findings.append(Finding(message_location, "message removed"))
                continue
            old_message, old_base = old.resolve(old_message_raw, document)
            new_message, new_base = new.resolve(new_message_raw, document)
            old_payload = _message_schema(old_message.get("payload", {}))
            new_payload = _message_schema(new_message.get("payload", {}))
            # Producers and consumers upgrade at different times, so a message must stay
            # readable by old consumers (response rules) and writable by old producers
            # (request rules).
            for direction in ("request", "response"):
                comparison.compare(
                    old_payload, old_base, new_payload, new_base, direction, message_location
                )
    for operation_id in (old_doc.get("operations") or {}).keys() - (
        new_doc.get("operations") or {}
    ).keys():
        comparison.findings.append(Finding(f"operation {operation_id}", "operation removed"))


def _message_schema(payload: Mapping[str, Any]) -> Any:
    # A Multi Format Schema Object wraps the schema; a plain payload is the schema itself.
    return payload["schema"] if "schemaFormat" in payload and "schema" in payload else payload


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """The outcome for one document."""

    document: str
    old_version: str | None
    new_version: str | None
    findings: tuple[Finding, ...]

    @property
    def major_bumped(self) -> bool:
        """Whether the new document's major version is higher than the old one's."""
        old_major, new_major = _major(self.old_version), _major(self.new_version)
        return old_major is not None and new_major is not None and new_major > old_major

    @property
    def compatible(self) -> bool:
        """No breaking change, or breaking changes released under a new major version."""
        return not self.findings or self.major_bumped


@dataclass(frozen=True, slots=True)
class CompatibilityReport:
    """The outcome for the whole contract."""

    against: str
    documents: tuple[DocumentReport, ...]

    @property
    def compatible(self) -> bool:
        """Whether every document is compatible."""
        return all(report.compatible for report in self.documents)

    def render(self) -> str:
        """A report a person can act on."""
        lines: list[str] = []
        for report in self.documents:
            versions = f"info.version {report.old_version} -> {report.new_version}"
            if report.old_version is None:
                lines.append(f"{report.document}: new document, nothing to compare")
            elif not report.findings:
                lines.append(f"{report.document}: compatible with {self.against} ({versions})")
            else:
                verdict = (
                    "allowed by the new major version"
                    if report.major_bumped
                    else "NOT allowed without a new major version"
                )
                lines.append(
                    f"{report.document}: {len(report.findings)} breaking change(s) against "
                    f"{self.against} ({versions}), {verdict}:"
                )
                lines.extend(f"  - {finding}" for finding in report.findings)
        if not self.compatible:
            lines.append(
                "Keep the old behaviour (add, deprecate, remove later), or bump the major "
                "version of info.version and follow docs/contract.md."
            )
        return "\n".join(lines)


def contract_compare(old_files: ContractFiles, new_files: ContractFiles) -> CompatibilityReport:
    """Compare the contract in ``new_files`` against the one in ``old_files``."""
    old, new = _Documents(old_files), _Documents(new_files)
    reports: list[DocumentReport] = []
    for document, compare in (
        ("openapi.yaml", _openapi_compare),
        ("asyncapi.yaml", _asyncapi_compare),
    ):
        new_version = str(new.load(document)["info"]["version"])
        if not old.exists(document):
            reports.append(DocumentReport(document, None, new_version, ()))
            continue
        comparison = _SchemaComparison(old=old, new=new)
        compare(old, new, comparison)
        reports.append(
            DocumentReport(
                document,
                str(old.load(document)["info"]["version"]),
                new_version,
                tuple(dict.fromkeys(comparison.findings)),
            )
        )
    return CompatibilityReport(against=old_files.description, documents=tuple(reports))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: exit 0 when compatible, 1 on breaking changes, 2 on usage errors."""
    parser = argparse.ArgumentParser(
        prog="python -m tessera_contract.breaking_changes",
        description="Fail when the contract breaks compatibility with an earlier revision.",
    )
    parser.add_argument("--against", required=True, help="git revision to compare with")
    parser.add_argument(
        "--current",
        help="git revision to check instead of the working tree (e.g. HEAD in CI)",
    )
    parser.add_argument("--repository", type=Path, default=Path.cwd(), help="the git work tree")
    parser.add_argument(
        "--contract-dir", default="contract", help="the contract folder inside the repository"
    )
    arguments = parser.parse_args(argv)
    repository = arguments.repository.resolve()
    try:
        old_files = git_revision_files(repository, arguments.against, arguments.contract_dir)
        new_files = (
            git_revision_files(repository, arguments.current, arguments.contract_dir)
            if arguments.current
            else working_tree_files(repository / arguments.contract_dir)
        )
        report = contract_compare(old_files, new_files)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"contract compatibility check failed to run: {error}", file=sys.stderr)
        return 2
    print(report.render())
    return 0 if report.compatible else 1


if __name__ == "__main__":
    sys.exit(main())

"""Both contract documents are valid, every reference resolves, and the examples conform."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_testing import CONTRACT_DIR, FIXTURES_DIR, SCHEMAS_DIR, schema_validator
from jsonschema import Draft7Validator, Draft202012Validator
from openapi_spec_validator import validate as openapi_validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from tessera_contract.models.schema_files import SCHEMA_MODELS

VENDORED_ASYNCAPI = CONTRACT_DIR / "vendor" / "asyncapi-specs"


def _yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((CONTRACT_DIR / name).read_text(encoding="utf-8"))


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _references(item)]
    return []


def _resolve(reference: str, base: Path) -> Any:
    target, _, fragment = reference.partition("#")
    path = (base.parent / target).resolve() if target else base
    node: Any = (
        json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    )
    for token in (part for part in fragment.split("/") if part):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_document_is_valid_openapi_3_1() -> None:
    path = CONTRACT_DIR / "openapi.yaml"
    document = _yaml("openapi.yaml")

    openapi_validate(document, base_uri=path.as_uri())

    assert document["openapi"].startswith("3.1")


def test_openapi_validation_catches_a_broken_reference() -> None:
    path = CONTRACT_DIR / "openapi.yaml"
    document = _yaml("openapi.yaml")
    document["components"]["schemas"]["Job"] = {"$ref": "./schemas/no-such-file.json"}

    with pytest.raises(Exception, match="no-such-file"):
        openapi_validate(document, base_uri=path.as_uri())


def test_openapi_validation_catches_an_invalid_schema() -> None:
    path = CONTRACT_DIR / "openapi.yaml"
    document = _yaml("openapi.yaml")
    document["paths"]["/api/v1/jobs"]["post"]["responses"]["201"]["content"]["application/json"][
        "schema"
    ] = {"type": "objekt"}

    with pytest.raises(OpenAPIValidationError):
        openapi_validate(document, base_uri=path.as_uri())


def test_vendored_asyncapi_schema_is_the_published_file() -> None:
    provenance = json.loads((VENDORED_ASYNCAPI / "provenance.json").read_text())
    vendored = (VENDORED_ASYNCAPI / provenance["vendored_as"]).read_bytes()

    assert hashlib.sha256(vendored).hexdigest() == provenance["sha256"]
    assert "Apache License" in (VENDORED_ASYNCAPI / "LICENSE").read_text()


def _asyncapi_validator() -> Draft7Validator:
    schema = json.loads((VENDORED_ASYNCAPI / "asyncapi-3.0.0.schema.json").read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def test_asyncapi_document_is_valid_asyncapi_3_0() -> None:
    document = _yaml("asyncapi.yaml")

    errors = sorted(_asyncapi_validator().iter_errors(document), key=lambda e: list(e.path))

    assert document["asyncapi"] == "3.0.0"
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_asyncapi_validation_catches_a_misspelt_channel_field() -> None:
    document = _yaml("asyncapi.yaml")
    document["channels"]["processingJobs"]["adress"] = "tessera.processing.jobs"

    assert list(_asyncapi_validator().iter_errors(document)) != []


def test_format_assertions_are_active_in_the_schema_validator() -> None:
    # jsonschema skips date-time checks silently when rfc3339-validator is missing, which
    # would make the schema look looser than the models.
    validator = schema_validator("job-queued.json")
    message = {"job_id": "5b8c9f0e-2a41-4d7b-9c3e-1f2a3b4c5d6e", "kind": "invoice_pdf"}

    assert validator.is_valid({**message, "attempt": 1, "enqueued_at": "2026-11-02T14:00:00Z"})
    assert not validator.is_valid({**message, "attempt": 1, "enqueued_at": "yesterday"})


@pytest.mark.parametrize("document_name", ["openapi.yaml", "asyncapi.yaml"])
def test_every_reference_in_a_document_resolves(document_name: str) -> None:
    document_path = CONTRACT_DIR / document_name
    pending = [(ref, document_path) for ref in _references(_yaml(document_name))]
    checked: set[tuple[str, Path]] = set()
    while pending:
        reference, base = pending.pop()
        if (reference, base) in checked:
            continue
        checked.add((reference, base))
        target = _resolve(reference, base)  # raises KeyError/FileNotFoundError when broken
        file_part = reference.partition("#")[0]
        next_base = (base.parent / file_part).resolve() if file_part else base
        pending.extend((ref, next_base) for ref in _references(target))

    assert checked


@pytest.mark.parametrize("schema_path", sorted(SCHEMAS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_schema_file_is_a_valid_2020_12_schema(schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text())

    Draft202012Validator.check_schema(schema)

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_schema_file_is_used_by_a_document_and_mirrored_by_a_model() -> None:
    referenced = {
        Path(ref.partition("#")[0]).name
        for name in ("openapi.yaml", "asyncapi.yaml")
        for ref in _references(_yaml(name))
        if ref.partition("#")[0]
    }
    top_level = {path.name for path in SCHEMAS_DIR.glob("*.json")} - {"common.json"}

    assert top_level - referenced == set(), "schema files no document uses"
    assert set(SCHEMA_MODELS) == top_level


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("payment_intent.succeeded.json", "payment-event.json"),
        ("payment_intent.payment_failed.json", "payment-event.json"),
        ("charge.refunded.json", "payment-event.json"),
        ("shipment.in_transit.json", "carrier-event.json"),
        ("shipment.delivered.json", "carrier-event.json"),
        ("shipment.exception.json", "carrier-event.json"),
    ],
)
def test_recorded_payloads_conform_to_their_schema(fixture: str, schema: str) -> None:
    payload = json.loads((FIXTURES_DIR / fixture).read_text())

    schema_validator(schema).validate(payload)


@pytest.mark.parametrize("fixture", ["customer.created.json", "shipment.returned.json"])
def test_payloads_of_unhandled_types_do_not_conform(fixture: str) -> None:
    payload = json.loads((FIXTURES_DIR / fixture).read_text())
    schema = "payment-event.json" if fixture.startswith("customer") else "carrier-event.json"

    assert not schema_validator(schema).is_valid(payload)


def _examples(document: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(location, example value, schema file) for every request example in openapi.yaml."""
    found = []
    components = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            for media in operation["requestBody"]["content"].values():
                if not media.get("examples"):
                    continue  # e.g. the storefront's generated operations carry none
                schema_name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                schema_file = Path(components[schema_name]["$ref"]).name
                for example_name, example in media["examples"].items():
                    found.append((f"{method} {path} {example_name}", example["value"], schema_file))
    return found


def test_request_examples_in_openapi_conform_to_their_schema() -> None:
    examples = _examples(_yaml("openapi.yaml"))

    for location, value, schema_file in examples:
        errors = list(schema_validator(schema_file).iter_errors(value))
        assert errors == [], location
    assert len(examples) >= 3


def test_message_examples_in_asyncapi_conform_to_their_schema() -> None:
    messages = _yaml("asyncapi.yaml")["components"]["messages"]
    checked = 0
    for message in messages.values():
        schema_file = Path(message["payload"]["schema"]["$ref"]).name
        for example in message.get("examples", []):
            schema_validator(schema_file).validate(example["payload"])
            checked += 1

    assert checked >= 1

"""The msgspec models and the JSON Schemas describe the same payloads.

Three checks, from cheap to thorough:
1. structure: every schema property, requirement, type and bound has its twin in the model;
2. round trip: anything the schema accepts, the model decodes, and re-encodes to something
   the schema accepts with the same fields (property-based, hypothesis-jsonschema);
3. agreement: after a random mutation (a field removed, a value of the wrong type or out of
   range, an unknown field added), schema and model still accept or refuse together.
"""

import json
from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from contract_testing import CONTRACT_SETTINGS, schema_bundled, schema_validator
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from tessera_contract.models import PayloadError, payload_decode, payload_encode
from tessera_contract.models.base import pattern_for_python
from tessera_contract.models.schema_files import SCHEMA_MODELS

CASES = sorted(SCHEMA_MODELS.items())
# The tests that prove a check can fail run derandomized (never flaky) and skip shrinking
# (only the failure matters, not its smallest example).
_CHECK_OF_THE_CHECK = settings(
    CONTRACT_SETTINGS, derandomize=True, phases=[Phase.explicit, Phase.generate]
)
CASE_IDS = [name for name, _ in CASES]


def _split_null(schema: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return [schema], False
    variants = [branch for branch in branches if branch.get("type") != "null"]
    return variants, len(variants) != len(branches)


def _tag_of(schema: dict[str, Any], tag_field: str) -> Any:
    return schema.get("properties", {}).get(tag_field, {}).get("const")


_SCALAR_FORMATS = {mi.DateTimeType: "date-time", mi.DateType: "date", mi.UUIDType: "uuid"}
# msgspec writes UUIDs in canonical form; the schema spells that form out as a pattern.
_CANONICAL_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _mismatches(schema: dict[str, Any], info: mi.Type, location: str) -> list[str]:
    found: list[str] = []
    variants, schema_nullable = _split_null(schema)
    model_types = list(info.types) if isinstance(info, mi.UnionType) else [info]
    model_nullable = any(isinstance(t, mi.NoneType) for t in model_types)
    model_types = [t for t in model_types if not isinstance(t, mi.NoneType)]
    if schema_nullable != model_nullable:
        found.append(f"{location}: nullable schema={schema_nullable} model={model_nullable}")

    if len(variants) > 1 or len(model_types) > 1:
        tag_field = next(
            t.tag_field for t in model_types if isinstance(t, mi.StructType) and t.tag_field
        )
        by_schema_tag = {_tag_of(variant, tag_field): variant for variant in variants}
        by_model_tag = {t.tag: t for t in model_types if isinstance(t, mi.StructType)}
        if set(by_schema_tag) != set(by_model_tag):
            found.append(
                f"{location}: variants schema={set(by_schema_tag)} model={set(by_model_tag)}"
            )
        for tag in set(by_schema_tag) & set(by_model_tag):
            found += _mismatches(by_schema_tag[tag], by_model_tag[tag], f"{location}<{tag}>")
        return found

    schema, info = variants[0], model_types[0]
    if isinstance(info, mi.StructType):
        properties = dict(schema.get("properties", {}))
        required = set(schema.get("required", []))
        if info.tag_field is not None:
            tag_schema = properties.pop(info.tag_field, {})
            required.discard(info.tag_field)
            if tag_schema.get("const") != info.tag:
                found.append(f"{location}.{info.tag_field}: tag {info.tag!r} vs {tag_schema}")
        fields = {field.encode_name: field for field in info.fields}
        if set(properties) != set(fields):
            found.append(
                f"{location}: only in schema {sorted(set(properties) - set(fields))}, "
                f"only in model {sorted(set(fields) - set(properties))}"
            )
        model_required = {name for name, field in fields.items() if field.required}
        if model_required != required:
            found.append(
                f"{location}: required schema={sorted(required)} model={sorted(model_required)}"
            )
        for name in sorted(set(properties) & set(fields)):
            found += _mismatches(properties[name], fields[name].type, f"{location}.{name}")
        return found

    expectations: dict[str, Any]
    if isinstance(info, mi.LiteralType):
        schema_values = set(schema["enum"]) if "enum" in schema else {schema.get("const")}
        if schema_values != set(info.values):
            found.append(f"{location}: values schema={schema_values} model={set(info.values)}")
        return found
    if isinstance(info, mi.ListType):
        expectations = {"type": "array", "minItems": info.min_length, "maxItems": info.max_length}
        found += _mismatches(schema.get("items", {}), info.item_type, f"{location}[]")
    elif isinstance(info, mi.StrType):
        pattern = schema.get("pattern")
        expectations = {
            "type": "string",
            "minLength": info.min_length,
            "maxLength": info.max_length,
        }
        if (pattern_for_python(pattern) if pattern else None) != info.pattern:
            found.append(f"{location}: pattern schema={pattern!r} model={info.pattern!r}")
        if "format" in schema:
            found.append(f"{location}: schema format {schema['format']} but model is a plain str")
    elif isinstance(info, mi.IntType | mi.FloatType):
        json_type = "integer" if isinstance(info, mi.IntType) else "number"
        expectations = {"type": json_type, "minimum": info.ge, "maximum": info.le}
    elif isinstance(info, mi.BoolType):
        expectations = {"type": "boolean"}
    elif type(info) in _SCALAR_FORMATS:
        expectations = {"type": "string", "format": _SCALAR_FORMATS[type(info)]}
        if isinstance(info, mi.UUIDType):
            expectations["pattern"] = _CANONICAL_UUID
        if isinstance(info, mi.DateTimeType) and not info.tz:
            found.append(f"{location}: model datetime does not require a timezone")
    else:
        return [f"{location}: no rule to compare {info!r}"]
    for keyword, expected in expectations.items():
        if schema.get(keyword) != expected:
            found.append(f"{location}: {keyword} schema={schema.get(keyword)!r} model={expected!r}")
    return found


@pytest.mark.parametrize(("schema_name", "model"), CASES, ids=CASE_IDS)
def test_model_structure_matches_schema(schema_name: str, model: Any) -> None:
    mismatches = _mismatches(schema_bundled(schema_name), mi.type_info(model), "$")

    assert mismatches == []


def test_structure_check_notices_a_missing_field() -> None:
    class Drifted(msgspec.Struct, kw_only=True):
        event_id: str

    mismatches = _mismatches(
        schema_bundled("webhook-acknowledgement.json"), mi.type_info(Drifted), "$"
    )

    assert any("only in schema ['status']" in line for line in mismatches)


def _key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    if isinstance(value, dict):
        paths = {(*prefix, key) for key in value}
        for key, item in value.items():
            paths |= _key_paths(item, (*prefix, key))
        return paths
    if isinstance(value, list):
        return set().union(*(_key_paths(item, (*prefix, i)) for i, item in enumerate(value)))
    return set()


def _round_trip_property(
    schema_name: str, model: Any, test_settings: settings = CONTRACT_SETTINGS
) -> Callable[[], None]:
    validator = schema_validator(schema_name)

    @test_settings
    @given(from_schema(schema_bundled(schema_name, closed=True, python_patterns=True)))
    def round_trip(instance: Any) -> None:
        decoded = payload_decode(json.dumps(instance), model)
        encoded = payload_encode(decoded)
        reencoded = json.loads(encoded)

        validator.validate(reencoded)
        assert payload_decode(encoded, model) == decoded
        assert _key_paths(reencoded) == _key_paths(instance)

    return round_trip


@pytest.mark.parametrize(("schema_name", "model"), CASES, ids=CASE_IDS)
def test_schema_valid_payloads_round_trip_through_the_model(schema_name: str, model: Any) -> None:
    _round_trip_property(schema_name, model)()


class _CheckWithoutDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    status: str
    duration_ms: float


class _ReadinessWithoutCheckDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    component: str
    version: str
    checks: list[_CheckWithoutDetail]


def test_round_trip_notices_a_model_that_drops_a_field() -> None:
    with pytest.raises(AssertionError):
        _round_trip_property("readiness.json", _ReadinessWithoutCheckDetail, _CHECK_OF_THE_CHECK)()


# 2.0 is a whole number: JSON Schema counts it as an integer, and the models must too.
_WRONG_VALUES: list[Any] = [None, True, False, "", "x", -1, 0, 2.0, 10**20, 1.5, [], {}]


def _locations(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, (*prefix, index))
    return found


def _get(value: Any, location: tuple[Any, ...]) -> Any:
    for step in location:
        value = value[step]
    return value


@st.composite
def _mutated(draw: st.DrawFn, instance: Any) -> Any:
    mutated = json.loads(json.dumps(instance))
    location = draw(st.sampled_from(_locations(mutated)))
    target = _get(mutated, location)
    operations = ["replace"] + (["remove", "add"] if isinstance(target, dict) and target else [])
    operations += ["drop_item"] if isinstance(target, list) and target else []
    operation = draw(st.sampled_from(operations))
    if operation == "remove":
        del target[draw(st.sampled_from(sorted(target)))]
    elif operation == "add":
        target["x_not_in_contract"] = draw(st.sampled_from(_WRONG_VALUES))
    elif operation == "drop_item":
        target.pop(draw(st.integers(0, len(target) - 1)))
    elif not location:
        mutated = draw(st.sampled_from(_WRONG_VALUES))
    else:
        _get(mutated, location[:-1])[location[-1]] = draw(st.sampled_from(_WRONG_VALUES))
    return mutated


def _model_accepts(raw: str, model: Any) -> bool:
    try:
        payload_decode(raw, model)
    except PayloadError:
        return False
    return True


def _agreement_property(
    schema_name: str, model: Any, test_settings: settings = CONTRACT_SETTINGS
) -> Callable[[], None]:
    validator = schema_validator(schema_name)
    valid = from_schema(schema_bundled(schema_name, closed=True, python_patterns=True))

    @test_settings
    @given(valid.flatmap(_mutated))
    def agree(mutated: Any) -> None:
        raw = json.dumps(mutated)
        schema_accepts = validator.is_valid(mutated)

        assert _model_accepts(raw, model) == schema_accepts, raw

    return agree


@pytest.mark.parametrize(("schema_name", "model"), CASES, ids=CASE_IDS)
def test_schema_and_model_accept_and_refuse_the_same_mutations(
    schema_name: str, model: Any
) -> None:
    _agreement_property(schema_name, model)()


class _LooseLiveness(msgspec.Struct, kw_only=True):
    status: str
    component: str
    version: str


def test_agreement_notices_a_model_looser_than_the_schema() -> None:
    with pytest.raises(AssertionError):
        _agreement_property("liveness.json", _LooseLiveness, _CHECK_OF_THE_CHECK)()

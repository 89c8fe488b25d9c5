"""The processing API against the contract: schemathesis over a live server, no 5xx, no drift."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, settings
from schemathesis import GenerationMode

from .conftest import authorization

CONTRACT_PATH = Path(__file__).resolve().parents[3] / "contract" / "openapi.yaml"

schema = schemathesis.openapi.from_path(CONTRACT_PATH).include(
    tag_regex="^(processing-jobs|health)$"
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=60
)


# Schemathesis generates strings for the schema's patterns with Python's re, whose \s differs
# from ECMA-262's (JSON Schema's), which the contract's models follow: Python's also matches
# U+001C-U+001F and U+0085, and does not match U+FEFF. Strings with those are left out here;
# contract/tests/test_contract_ecma_semantics.py checks them against a JavaScript engine.
ECMA_PYTHON_WHITESPACE_DIFFERENCE = re.compile("[\x1c-\x1f\x85\ufeff]")


def refused_as_documented(body: Any) -> bool:
    """A sales report the contract says is refused with 422 though its schema allows it: the
    pdf format (not produced yet) or a date range that ends before it starts."""
    if not isinstance(body, dict) or body.get("kind") != "sales_report":
        return False
    report = body.get("input")
    if not isinstance(report, dict):
        return False
    formats = report.get("formats")
    if isinstance(formats, list) and "pdf" in formats:
        return True
    dates = report.get("date_from"), report.get("date_to")
    return all(isinstance(d, str) for d in dates) and dates[1] < dates[0]


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a generated body, keys included (json.dumps would escape the controls)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):  # type: ignore[no-untyped-def]
    """Once as deployed, once as `make run` serves it: API errors are problems in both."""
    settings.DEBUG = request.param
    return request.param


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_processing_api_conforms_to_the_contract(case, live_server, debug):  # type: ignore[no-untyped-def]
    assume(not any(ECMA_PYTHON_WHITESPACE_DIFFERENCE.search(t) for t in strings_in(case.body)))
    assume(not refused_as_documented(case.body))
    # A fresh token per call: tokens live 60 s, a run lasts longer.
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": authorization()})

"""The contract's problem types: the schema lists exactly the enum, and the docs name each one."""

import json
import re
from pathlib import Path

from tessera_contract.models.problems import ProblemType

CONTRACT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((CONTRACT / "schemas" / "problem-details.json").read_text())
CONTRACT_DOC = CONTRACT.parent / "docs" / "contract.md"


def test_the_schema_lists_exactly_the_problem_types_of_the_enum() -> None:
    listed = SCHEMA["properties"]["type"]["x-extensible-enum"]

    assert sorted(listed) == sorted(problem_type.value for problem_type in ProblemType)
    assert len(listed) == len(set(listed)), "a type is listed twice"


def test_docs_name_every_problem_type() -> None:
    documented = set(re.findall(r"/problems/[a-z-]+", CONTRACT_DOC.read_text()))

    assert {problem_type.value for problem_type in ProblemType} <= documented

"""``docs/reliability.md`` names only tests that exist, and every reliability test.

The document is the operator-facing proof of issue 4; if a test is renamed
or removed, or a new reliability test is not listed, this fails.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def table_references() -> list[tuple[str, str]]:
    """(file, test name) of every test named in a table row of the document."""
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("|")]
    return [ref for row in rows for ref in REFERENCE.findall(row)]


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_referenced_test_exists() -> None:
    references = table_references()
    assert len(references) > 40
    missing = [
        f"{file}::{name}"
        for file, name in references
        if not (ROOT / file).is_file() or name not in defined_tests(ROOT / file)
    ]
    assert missing == []


def test_every_reliability_test_is_in_the_document() -> None:
    referenced = set(table_references())
    unlisted = [
        f"{path.relative_to(ROOT)}::{name}"
        for path in sorted((ROOT / "tests").glob("test_reliability_*.py"))
        if path.name != "test_reliability_doc.py"
        for name in sorted(defined_tests(path))
        if (str(path.relative_to(ROOT)), name) not in referenced
    ]
    assert unlisted == []


def test_every_row_names_a_test() -> None:
    rows = [
        line
        for line in DOC.read_text().splitlines()
        if line.startswith("|")
        and not line.startswith(("|---", "| Situation", "| Fault"))
    ]
    assert rows
    assert [row for row in rows if not REFERENCE.search(row)] == []

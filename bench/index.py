"""The index of the reports, docs/benchmarks/README.md: one row per benchmark, added once."""

from __future__ import annotations

from pathlib import Path


def index_row_add(output_dir: Path, *, page: str, row: str) -> Path | None:
    """Append ``row`` to the index unless it already links ``page``; the index's path if it
    changed, else None (no index in ``output_dir``, or the row is there)."""
    index = output_dir / "README.md"
    if not index.exists() or f"({page})" in index.read_text():
        return None
    index.write_text(index.read_text().rstrip("\n") + "\n" + row + "\n")
    return index

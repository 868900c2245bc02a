"""docs/integrating.md's "Testing failure handling" keeps its word: its curl examples,
run in order against a fresh mock, answer what is written under them, and its
``capmock serve`` lines are real commands with specs the grammar reads."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Callable

from support import ServedMock
from test_docs import INTEGRATING, assert_real_command, capmock_commands

from mock_server.instrument import grammar

SPECS = {
    "--fault": (grammar.parse_fault, "FaultRequest"),
    "--latency": (grammar.parse_latency, "Delay"),
    "--rate-limit": (grammar.parse_rate, "RateLimit"),
}


def section() -> str:
    text = INTEGRATING.read_text(encoding="utf-8")
    start = text.index("## Testing failure handling")
    return text[start : text.index("\n## ", start + 1)]


def sh_blocks() -> list[str]:
    found, fence = [], None
    for line in section().splitlines(keepends=True):
        if fence is None and line.startswith("```sh"):
            fence = []
        elif fence is not None and line.rstrip() == "```":
            found.append("".join(fence))
            fence = None
        elif fence is not None:
            fence.append(line)
    return found


def commands(block: str) -> list[tuple[str, list[object]]]:
    """Each command of a block, and the JSON written under it."""
    found: list[tuple[str, list[object]]] = []
    current = ""
    for line in block.splitlines():
        if line.startswith(("# {", "# [")):
            found[-1][1].append(json.loads(line[2:]))
        elif line.startswith("#") or not line.strip():
            continue
        else:
            current += line + "\n"
            if not line.endswith("\\"):
                found.append((current, []))
                current = ""
    return found


def test_the_examples_answer_as_written(serve: Callable[..., ServedMock]):
    mock = serve()
    ran = 0
    for block in sh_blocks():
        if "127.0.0.1:8080" not in block:
            continue
        for command, expected in commands(block):
            script = command.replace("http://127.0.0.1:8080", mock.url)
            result = subprocess.run(
                ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
            )
            assert result.returncode == 0, (command, result.stderr)
            answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
            if expected:
                assert answers == expected, command
            ran += 1
    assert ran >= 12


def test_the_serve_lines_are_real_commands_with_specs_that_read():
    checked = 0
    for block in sh_blocks():
        for words in capmock_commands(block):
            assert_real_command(words)
            for option, value in itertools.pairwise(words):
                if option in SPECS:
                    parse, schema = SPECS[option]
                    grammar.checked(parse(value), schema)
                    checked += 1
    assert checked >= 5

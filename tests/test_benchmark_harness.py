"""The benchmark harness's pure parts: no servers, no load, no timing.

benchmarks/ is not part of the installed package, so its wrk module is loaded from
the checkout by path (it imports nothing from the package on purpose).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).parent / "data" / "wrk"


def _load_wrk():
    spec = importlib.util.spec_from_file_location("bench_wrk", ROOT / "benchmarks" / "wrk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


wrk = _load_wrk()


def test_parses_a_report_with_failed_responses():
    result = wrk.parse_wrk((SAMPLES / "non-2xx.txt").read_text())
    assert result.requests == 23703
    assert result.duration_s == pytest.approx(2.02)
    assert result.requests_per_s == pytest.approx(11724.63)
    assert result.p50_ms == pytest.approx(2.03)
    assert result.p99_ms == pytest.approx(12.24)
    assert set(result.latency_ms) == {"50", "75", "90", "99"}
    assert result.non_2xx_3xx == 23703
    assert result.socket_errors == {}


def test_parses_socket_errors():
    result = wrk.parse_wrk((SAMPLES / "socket-errors.txt").read_text())
    assert result.socket_errors == {"connect": 0, "read": 32, "write": 36267, "timeout": 0}
    assert result.errors == 23408 + 32 + 36267


def test_a_clean_report_has_no_failures_and_converts_units():
    text = (SAMPLES / "non-2xx.txt").read_text()
    text = text.replace("  Non-2xx or 3xx responses: 23703\n", "")
    text = text.replace("2.03ms", "870.00us").replace("12.24ms", "1.20s")
    result = wrk.parse_wrk(text)
    assert result.non_2xx_3xx == 0 and result.errors == 0
    assert result.p50_ms == pytest.approx(0.87)
    assert result.p99_ms == pytest.approx(1200.0)


def test_refuses_output_without_a_summary():
    with pytest.raises(wrk.WrkOutputError):
        wrk.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_lua_strings_escape_quotes_backslashes_and_non_ascii():
    assert wrk.lua_string('{"a": "b\\\\c"}') == '"{\\"a\\": \\"b\\\\\\\\c\\"}"'
    assert wrk.lua_string("é\n") == '"\\195\\169\\010"'


def test_the_script_sets_method_body_and_headers():
    script = wrk.lua_script("POST", '{"x": 1}', {"Content-Type": "application/json"})
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = "{\\"x\\": 1}"' in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script


def test_the_spread_script_picks_a_customer_per_request():
    script = wrk.lua_spread_script(
        "POST", "{}", {}, "/v2/customers/{userId}/negativePointsAdjustment?x=1", 1000, 50
    )
    assert 'wrk.method = "POST"' in script
    assert 'local before, after = "/v2/customers/", "/negativePointsAdjustment?x=1"' in script
    assert "local first, last = 1000, 1049" in script
    assert "function request()" in script and "math.random(first, last)" in script

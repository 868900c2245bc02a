"""The benchmark harness's pure parts: no servers, no load, no timing.

benchmarks/ is not part of the installed package, so it is loaded from the checkout by
path, without putting the checkout on sys.path (capmock stays the installed one). The
samples in tests/data/wrk are wrk's real output with the harness's done() hook.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).parent / "data" / "wrk"


def _load_benchmarks() -> None:
    spec = importlib.util.spec_from_file_location(
        "benchmarks",
        ROOT / "benchmarks" / "__init__.py",
        submodule_search_locations=[str(ROOT / "benchmarks")],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


_load_benchmarks()

from benchmarks import report, workload, wrk  # noqa: E402  (after loading the package by path)


def sample(name: str) -> wrk.WrkResult:
    return wrk.parse((SAMPLES / name).read_text())


# --- wrk's report, from the done() hook ----------------------------------------------


def test_reads_a_clean_run():
    result = sample("done-clean.txt")
    assert result.requests == 7272
    assert result.duration_s == pytest.approx(1.099571)
    assert result.requests_per_s == pytest.approx(7272 / 1.099571)
    assert result.latency_us == {"p50": 1103, "p90": 1677, "p99": 2658, "max": 7238}
    assert result.latency_ms("p99") == pytest.approx(2.658)
    assert result.non_2xx_3xx == 0
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert result.errors == 0


def test_reads_failed_responses():
    result = sample("done-non-2xx.txt")
    assert result.requests == 6588
    assert result.non_2xx_3xx == 6588
    assert result.errors == 6588


def test_reads_socket_errors_by_kind():
    result = sample("done-socket-errors.txt")
    assert result.socket_errors == {"connect": 0, "read": 10113, "write": 0, "timeout": 0}
    assert result.non_2xx_3xx == 5058
    assert result.errors == 5058 + 10113


@pytest.mark.parametrize("name", ["done-clean.txt", "done-non-2xx.txt", "done-socket-errors.txt"])
def test_the_hooks_report_agrees_with_wrks_own_text(name):
    text = (SAMPLES / name).read_text()
    result = wrk.parse(text)
    assert f"{result.requests} requests in" in text
    rate = next(line for line in text.splitlines() if line.startswith("Requests/sec:"))
    assert float(rate.split()[1]) == pytest.approx(result.requests_per_s, abs=0.01)
    assert (f"Non-2xx or 3xx responses: {result.non_2xx_3xx}" in text) == (result.non_2xx_3xx > 0)


def test_refuses_output_without_the_hooks_report():
    text_only = (SAMPLES / "done-clean.txt").read_text().rsplit("\n{", 1)[0]
    assert "Requests/sec" in text_only
    with pytest.raises(wrk.WrkOutputError):
        wrk.parse(text_only)
    with pytest.raises(wrk.WrkOutputError):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")
    with pytest.raises(wrk.WrkOutputError):
        wrk.parse("")


@pytest.mark.parametrize(
    "change",
    [
        lambda report: report.pop("latency_us"),
        lambda report: report["errors"].pop("timeout"),
        lambda report: report.update(requests=-1),
        lambda report: report.update(requests="7272"),
        lambda report: report["latency_us"].update(p99=2.5),
    ],
)
def test_refuses_a_report_with_a_missing_or_odd_field(change):
    lines = (SAMPLES / "done-clean.txt").read_text().strip().splitlines()
    document = json.loads(lines[-1])
    change(document)
    with pytest.raises(wrk.WrkOutputError):
        wrk.parse("\n".join([*lines[:-1], json.dumps(document)]))


# --- the Lua script ---------------------------------------------------------------------


def test_lua_strings_escape_quotes_backslashes_and_non_ascii():
    assert wrk.lua_string('{"a": "b\\\\c"}') == '"{\\"a\\": \\"b\\\\\\\\c\\"}"'
    assert wrk.lua_string("é\n") == '"\\195\\169\\010"'


def test_the_script_sets_method_body_and_headers_and_reports_as_json():
    script = wrk.lua_script("POST", '{"x": 1}', {"Content-Type": "application/json"})
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = "{\\"x\\": 1}"' in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert script.endswith(wrk.DONE_HOOK)
    assert "function done(summary, latency, requests)" in script


def test_the_spread_script_picks_a_customer_per_request():
    script = wrk.lua_spread_script(
        "POST", "{}", {}, "/v2/customers/{userId}/negativePointsAdjustment?x=1", 1000, 50
    )
    assert 'wrk.method = "POST"' in script
    assert 'local before, after = "/v2/customers/", "/negativePointsAdjustment?x=1"' in script
    assert "local first, last = 1000, 1049" in script
    assert "function request()" in script and "math.random(first, last)" in script
    assert script.endswith(wrk.DONE_HOOK)


def test_the_wrk_command_runs_the_script_without_its_text_latency_table():
    argv = wrk.command(
        "http://127.0.0.1:1/x", Path("/tmp/s.lua"), threads=2, connections=32, seconds=10
    )
    assert argv == [
        *("wrk", "-t2", "-c32", "-d10s", "--timeout", "10s"),
        *("-s", "/tmp/s.lua", "http://127.0.0.1:1/x"),
    ]


# --- medians, ratios and the table ------------------------------------------------------


def a_run(requests: int, cpu_s: float, p99_us: int = 5000, **fields: float) -> report.Run:
    load = wrk.WrkResult(
        requests=requests,
        duration_s=10.0,
        latency_us={"p50": 2000, "p90": 3000, "p99": p99_us, "max": 9000},
        non_2xx_3xx=int(fields.pop("non_2xx", 0)),
        socket_errors={"connect": 0, "read": 0, "write": 0, "timeout": 0},
    )
    return report.Run(
        load=load,
        server_cpu_s=cpu_s,
        wrk_cpu_s=1.0,
        other_processes_cores=fields.pop("others", 0.0),
        steal_cores=0.0,
        redis_cpu_s=fields.pop("redis_s", None),
    )


def test_a_row_takes_the_median_of_its_runs():
    row = report.Row("capmock-redis", "capmock", "capmock, Redis store")
    row.runs = [
        a_run(100_000, 8.0, redis_s=1.0),
        a_run(120_000, 6.0, redis_s=1.2),
        a_run(80_000, 8.8, redis_s=0.4),
    ]
    assert row.median("requests_per_s") == 10_000
    assert row.median("cpu_us_per_request") == 80  # of 80, 50, 110
    assert row.median("redis_cpu_us_per_request") == 10  # of 10, 10, 5
    assert row.median("p99_ms") == 5.0
    assert "+ redis-server 10 µs/req" in row.notes


def test_an_even_number_of_runs_averages_the_middle_two():
    row = report.Row("x", "reference", "x")
    row.runs = [a_run(100_000, 5.0), a_run(50_000, 5.0)]
    assert row.median("requests_per_s") == 7_500
    assert report.Row("y", "reference", "y").median("requests_per_s") is None


def test_ratios_compare_every_row_with_prisms_best():
    rows = [
        report.Row("prism", "prism", "Prism"),
        report.Row("prism-silent", "prism", "Prism silent"),
        report.Row("capmock-memory", "capmock", "memory"),
        report.Row("wiremock", "wiremock", "WireMock"),
    ]
    rows[0].runs = [a_run(20_000, 10.0)]  # 2,000 req/s, 500 µs/req
    rows[1].runs = [a_run(35_000, 10.5)]  # 3,500 req/s, 300 µs/req: the best of both
    rows[2].runs = [a_run(126_000, 10.08)]  # 12,600 req/s, 80 µs/req
    rows[3].error = "not ready after 90 s"
    best = report.add_ratios(rows)
    assert best == (pytest.approx(300), pytest.approx(3_500))
    assert rows[2].cpu_ratio == pytest.approx(300 / 80)
    assert rows[2].rps_ratio == pytest.approx(12_600 / 3_500)
    assert rows[0].cpu_ratio == pytest.approx(0.6)
    assert rows[3].cpu_ratio is None and rows[3].rps_ratio is None


def test_without_a_measured_prism_there_are_no_ratios():
    rows = [report.Row("prism", "prism", "Prism"), report.Row("capmock-memory", "capmock", "m")]
    rows[0].error = "exited with 1"
    rows[0].runs = [a_run(20_000, 10.0)]  # a run before it failed does not count
    rows[1].runs = [a_run(100_000, 8.0)]
    assert report.add_ratios(rows) == (None, None)
    assert rows[1].cpu_ratio is None


def test_notes_say_what_went_wrong_and_what_was_noisy():
    row = report.Row("capmock-memory", "capmock", "capmock, memory store", must_succeed=True)
    row.runs = [a_run(1000, 1.0, non_2xx=3, others=0.25)]
    assert row.notes == ["non-2xx 3", "other processes busy 0.25 cores"]
    quiet = report.Row("starlette", "reference", "bare Starlette")
    quiet.runs = [a_run(1000, 1.0, others=0.05)]
    quiet.sample_status = 404
    assert quiet.notes == ["answers 404"]


def the_table() -> tuple[str, list[report.Row]]:
    prism = report.Row("prism-silent", "prism", "Stoplight Prism 5.14.x mock, -v silent")
    prism.runs = [a_run(35_000, 10.5, p99_us=17_720)]
    prism.rss_mib = 170.0
    memory = report.Row("capmock-memory", "capmock", "capmock, memory store, 1 worker")
    memory.must_succeed = True
    memory.runs = [a_run(126_000, 10.08, p99_us=4_940)]
    memory.rss_mib = 76.1
    sqlite = report.Row("capmock-sqlite", "capmock", "capmock, SQLite store, 1 worker")
    sqlite.skipped = "skipped: capmock serve has no --store yet"
    rows = [memory, sqlite, prism]
    best = report.add_ratios(rows)
    load = workload.Load(threads=2, connections=32, duration=10, repeat=3)
    return report.title("2026-11-27 09:30 UTC", load, best), rows


def test_the_caption_names_the_date_the_load_and_prisms_best():
    caption, _ = the_table()
    assert caption == (
        "2026-11-27 09:30 UTC, load `wrk -t2 -c32 -d10s`, median of 3 run(s); "
        "x Prism = times better than Prism's best (300 µs/req, 3,500 req/s)."
    )


def test_the_markdown_table():
    caption, rows = the_table()
    assert report.markdown(caption, rows).splitlines() == [
        caption,
        "",
        "| target | req/s | p50 ms | p99 ms | CPU µs/req | RSS MiB | CPU x Prism "
        "| req/s x Prism | notes |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
        "| capmock-memory | 12,600 | 2.00 | 4.94 | 80 | 76.1 | 3.75x | 3.60x "
        "| capmock, memory store, 1 worker; non-2xx 0 |",
        "| capmock-sqlite | - | - | - | - | - | - | - "
        "| skipped: capmock serve has no --store yet |",
        "| prism-silent | 3,500 | 2.00 | 17.72 | 300 | 170.0 | 1.00x | 1.00x "
        "| Stoplight Prism 5.14.x mock, -v silent |",
    ]


def test_markdown_escapes_a_pipe_in_a_cell():
    row = report.Row("x", "reference", "a | b")
    row.error = "exited: x|y"
    assert "| FAILED: exited: x\\|y |" in report.markdown("c", [row])


def test_the_plain_table_aligns_numbers_right_and_text_left():
    caption, rows = the_table()
    lines = report.plain(caption, rows).splitlines()
    assert lines[0] == caption
    header, rule, memory, sqlite, prism = lines[1:]
    assert set(rule.replace("  ", "")) == {"-"}
    assert [line[:16] for line in (header, memory, prism)] == [
        "target          ",
        "capmock-memory  ",
        "prism-silent    ",
    ]
    end = header.index("req/s") + len("req/s")
    assert memory[:end].endswith(" 12,600") and prism[:end].endswith(" 3,500")
    assert sqlite.endswith("skipped: capmock serve has no --store yet")


def test_the_json_document_holds_medians_ratios_and_every_run():
    _, rows = the_table()
    best = (300.0, 3500.0)
    timings = {"startup": {"seconds": [0.6], "median_s": 0.6}, "errors": {}}
    document = report.document({"started": "2026-11-27T09:30:00Z"}, best, rows, timings)
    json.dumps(document)  # plain JSON
    memory = document["targets"][0]
    assert memory["median"] == {
        "requests_per_s": 12_600,
        "p50_ms": 2.0,
        "p99_ms": 4.94,
        "cpu_us_per_request": pytest.approx(80),
    }
    assert memory["non_2xx_3xx"] == 0
    assert memory["runs"][0]["latency_us"]["p99"] == 4_940
    assert memory["ratio_to_prism_best"]["cpu"] == pytest.approx(3.75)
    assert document["targets"][1]["skipped"].startswith("skipped:")
    assert document["targets"][1]["non_2xx_3xx"] is None
    assert document["prism_best"] == {"cpu_us_per_request": 300.0, "requests_per_s": 3500.0}
    assert document["startup"]["median_s"] == 0.6 and document["errors"] == {}


def test_extras_lines():
    lines = report.extras_lines(
        {
            "startup": {"seconds": [0.693, 0.604, 0.606], "median_s": 0.606},
            "errors": {"fixture-load": "capmock check customers-10.json failed: boom"},
        }
    )
    assert lines == [
        "capmock startup to first 200 from /__admin/health (default fixtures): "
        "median 606 ms of [693, 604, 606] ms",
        "fixture-load: FAILED: capmock check customers-10.json failed: boom",
    ]

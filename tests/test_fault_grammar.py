"""The command line's grammar for --fault, --latency and --rate-limit: each spec is the
document the admin API takes, checked by the same schema; a bad one exits 2 naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import ROOT

from mock_server.instrument.grammar import (
    SpecError,
    checked,
    parse_fault,
    parse_latency,
    parse_rate,
)


@pytest.mark.parametrize(
    ("spec", "document"),
    [
        ("code=9199,p=0.02", {"action": {"type": "code", "code": 9199}, "probability": 0.02}),
        (
            "reset,phase=after_commit,times=1",
            {"action": {"type": "reset"}, "phase": "after_commit", "times": 1},
        ),
        (
            "code=8907,user=388034468,source=INSTORE,op=deductPoints,session=s1",
            {
                "match": {
                    "userId": 388034468,
                    "source": "INSTORE",
                    "operation": "deductPoints",
                    "session": "s1",
                },
                "action": {"type": "code", "code": 8907},
            },
        ),
        (
            "status=503,ttl=1.5m,seed=-4",
            {"action": {"type": "status", "status": 503}, "ttl": 90, "seed": -4},
        ),
        ("delay=250ms", {"action": {"type": "delay", "ms": 250}}),
        ("delay=1-2s", {"action": {"type": "delay", "ms": [1000, 2000]}}),
        (
            "delay,median=80ms,sigma=0.5",
            {"action": {"type": "delay", "median": 80, "sigma": 0.5}},
        ),
        ("timeout", {"action": {"type": "timeout"}}),
        ("timeout=30s", {"action": {"type": "timeout", "ms": 30000}}),
        ("empty,probability=1", {"action": {"type": "empty"}, "probability": 1}),
        ("malformed=html", {"action": {"type": "malformed", "kind": "html"}}),
        (
            'malformed,body.reasonOfReturn=Refund,body.pointsToBeAdjusted="10",body.programId=973',
            {
                "match": {
                    "body": {
                        "reasonOfReturn": "Refund",
                        "pointsToBeAdjusted": "10",
                        "programId": 973,
                    }
                },
                "action": {"type": "malformed"},
            },
        ),
    ],
)
def test_fault_specs_are_the_admin_documents(spec: str, document: dict):
    assert checked(parse_fault(spec), "FaultRequest") == document


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "an empty item"),
        ("reset,,times=1", "an empty item"),
        ("ttl=3s", "no action"),
        ("reset,empty", "two actions, reset and empty"),
        ("reset,reset", "reset is given twice"),
        ("shout", "'shout' is not an action"),
        ("code=lots", "code must be a whole number, got 'lots'"),
        ("reset,p=half", "p must be a number, got 'half'"),
        ("reset,ttl=30", "'30' is not a duration"),
        ("delay", "delay needs a time"),
        ("reset,median=80ms,sigma=1", "median and sigma go together, with a bare delay"),
        ("code=99", "action.code: 99 is not one of the values allowed"),
        ("status=700", "action.status: 700 is greater than the maximum of 599"),
        ("reset,p=1.5", "probability: 1.5 is greater than the maximum of 1"),
        ("reset,phase=later", 'phase: "later" is not one of ["before", "after_commit"]'),
        ("reset,times=0", "times: 0 is less than the minimum of 1"),
        ("reset,source=MOON", 'match.source: "MOON" is not one of ["INSTORE", "MARTJACK"'),
        ("reset,colour=red", "unknown key 'colour'"),
        ("delay=2m", "action.ms: 120000 is greater than the maximum of 60000"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(spec: str, problem: str):
    with pytest.raises(SpecError) as refused:
        checked(parse_fault(spec), "FaultRequest")
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("spec", "document"),
    [
        ("80ms", {"ms": 80}),
        ("40-400ms", {"ms": [40, 400]}),
        ("0.5s", {"ms": 500}),
        ("lognormal:median=80ms,sigma=0.5", {"median": 80, "sigma": 0.5}),
    ],
)
def test_latency_specs(spec: str, document: dict):
    assert checked(parse_latency(spec), "Delay") == document


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("fast", "'fast' is not a duration"),
        ("normal:median=1ms,sigma=1", "'normal' is not a distribution"),
        ("lognormal:median=80ms", "lognormal takes median and sigma"),
        ("lognormal:median=80ms,sigma=9", "sigma: 9 is greater than the maximum of 3"),
        ("2m", "ms: 120000 is greater than the maximum of 60000"),
    ],
)
def test_bad_latency_specs(spec: str, problem: str):
    with pytest.raises(SpecError) as refused:
        checked(parse_latency(spec), "Delay")
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("spec", "document"),
    [
        ("100/min", {"requests": 100, "seconds": 60}),
        ("100/m", {"requests": 100, "seconds": 60}),
        ("5/s", {"requests": 5, "seconds": 1}),
        ("5/second", {"requests": 5, "seconds": 1}),
        ("1000/hour", {"requests": 1000, "seconds": 3600}),
        ("7", {"requests": 7, "seconds": 1}),
    ],
)
def test_rate_specs(spec: str, document: dict):
    assert checked(parse_rate(spec), "RateLimit") == document


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("100/day", "'100/day' is not a rate such as 10/s, 100/min or 1000/h"),
        ("many/min", "is not a rate"),
        ("0/min", "is not a rate"),
        ("1.5/min", 'requests: 1.5 is not of type "integer"'),
    ],
)
def test_bad_rate_specs(spec: str, problem: str):
    with pytest.raises(SpecError) as refused:
        checked(parse_rate(spec), "RateLimit")
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--fault", "reset", "--fault", "code=1"],
            "capmock serve: Invalid value for --fault: 'code=1': action.code: 1 is not one of "
            "the values allowed",
        ),
        (
            ["--latency", "40-400"],
            "capmock serve: Invalid value for --latency: '40-400': '40-400' is not a duration "
            "such as 250ms, 2s or 1.5m",
        ),
        (
            ["--rate-limit", "100/fortnight"],
            "capmock serve: Invalid value for --rate-limit: '100/fortnight': '100/fortnight' is "
            "not a rate such as 10/s, 100/min or 1000/h",
        ),
    ],
)
def test_serve_refuses_a_bad_spec_with_exit_2(args: list[str], message: str):
    result = subprocess.run(
        [sys.executable, "-m", "capmock", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == message
    assert "Traceback" not in result.stderr

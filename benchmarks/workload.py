"""What every target is sent and what capmock serves: one valid deduction, Basic auth.

The fixtures give each customer a balance that outlasts any run at 0.01 a request, so
every answer is a real, successful deduction. The ``-spread`` rows use a fixture of many
customers and a wrk script that picks one of them per request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.wrk import lua_script, lua_spread_script

ROOT = Path(__file__).resolve().parents[1]  # the checkout holding these benchmarks
HOST = "127.0.0.1"
USER_ID = 388034468
PATH_TEMPLATE = "/v2/customers/{userId}/negativePointsAdjustment?source=INSTORE"
PATH = PATH_TEMPLATE.format(userId=USER_ID)
USERNAME, PASSWORD = "store.server", "server123"
MD5_PASSWORD = hashlib.md5(PASSWORD.encode()).hexdigest()  # Capillary's Basic auth sends it
AUTHORIZATION = "Basic " + base64.b64encode(f"{USERNAME}:{MD5_PASSWORD}".encode()).decode()
BODY = json.dumps(
    {
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "0.01",
        "reasonOfReturn": "Extra points were issued",
    }
)
HEADERS = {"Content-Type": "application/json", "Authorization": AUTHORIZATION}
HUGE_BALANCE = 10**11  # 0.01 a request: 10^13 requests before a refusal


@dataclass(frozen=True)
class Load:
    """wrk's settings, the same for every target."""

    threads: int
    connections: int
    duration: int  # seconds per measured run
    repeat: int  # measured runs


@dataclass(frozen=True)
class Inputs:
    """The measured checkout and the files generated for one run, in its temporary directory."""

    source: Path  # the checkout whose capmock is measured (--source)
    tmp: Path
    spread: int  # customers of the spread fixture, from USER_ID on
    fixtures: Path
    spread_fixtures: Path
    lua: Path
    spread_lua: Path

    @property
    def contract(self) -> Path:
        return self.source / "openapi" / "capillary.yaml"

    @property
    def default_fixtures(self) -> Path:
        return self.source / "fixtures" / "default.yaml"

    def python_env(self) -> dict[str, str]:
        """The environment of a Python target: the measured checkout, then this one, first."""
        paths = dict.fromkeys([str(self.source), str(ROOT)])
        return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def write_inputs(source: Path, tmp: Path, spread: int) -> Inputs:
    inputs = Inputs(
        source=source,
        tmp=tmp,
        spread=spread,
        fixtures=tmp / "bench-fixtures.json",
        spread_fixtures=tmp / f"bench-fixtures-{spread}.json",
        lua=tmp / "deduct.lua",
        spread_lua=tmp / "deduct-spread.lua",
    )
    inputs.fixtures.write_text(json.dumps(bench_fixture(), indent=1))
    inputs.spread_fixtures.write_text(json.dumps(bench_fixture(spread), indent=1))
    inputs.lua.write_text(lua_script("POST", BODY, HEADERS))
    inputs.spread_lua.write_text(
        lua_spread_script("POST", BODY, HEADERS, PATH_TEMPLATE, USER_ID, spread)
    )
    return inputs


def bench_fixture(customers: int = 1) -> dict[str, Any]:
    """``customers`` customers from USER_ID on, each with a balance that outlasts any
    run at 0.01 a request."""
    return {
        "users": [{"username": USERNAME, "password": PASSWORD, "accessGroups": ["points"]}],
        "programs": [{"id": 973, "name": "Bench", "default": True, "roundDecimals": 2}],
        "customers": [
            {
                "userId": USER_ID + i,
                "sources": ["INSTORE"],
                "enrollments": [{"programId": 973, "points": {"REGULAR": HUGE_BALANCE}}],
            }
            for i in range(customers)
        ],
    }

"""What is measured and how it is started: one small class per kind of target, all of
them registered in one table, :func:`all_targets`."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.apps import FIXED_BODY
from benchmarks.processes import TargetError, tool_version
from benchmarks.workload import AUTHORIZATION, HOST, PATH, Inputs

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class NpmPackage:
    """A tool installed from npm into its own directory under benchmarks/.cache."""

    name: str
    version: str  # npm resolves it to the newest release: "5.14" installs 5.14.x
    directory: Path

    @property
    def root(self) -> Path:
        return self.directory / "node_modules" / self.name

    def installed(self) -> str | None:
        try:
            version: str = json.loads((self.root / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None
        return version


PRISM = NpmPackage("@stoplight/prism-cli", "5.14", CACHE / "prism")
WIREMOCK = NpmPackage("wiremock", "3.13", CACHE / "wiremock")  # ships the standalone jar


@functools.cache
def install(package: NpmPackage) -> str:
    """Install ``package`` unless the wanted version is there; the version installed."""
    version = package.installed()
    if version and version.startswith(package.version + "."):
        return version
    package.directory.mkdir(parents=True, exist_ok=True)
    spec = f"{package.name}@{package.version}"
    print(f"installing {spec} into {package.directory} ...", flush=True)
    result = subprocess.run(
        [
            *("npm", "install", "--prefix", str(package.directory), "--no-audit", "--no-fund"),
            *("--save-exact", "--loglevel=error", spec),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    version = package.installed()
    if result.returncode != 0 or version is None:
        raise TargetError(f"npm install {spec} failed: {result.stderr.strip()[-300:]}")
    return version


class Target(ABC):
    """Something the harness starts, loads and measures: one row of the table."""

    name: str
    what: str  # the row's description
    group: str  # "capmock", "prism", "wiremock" or "reference"
    health: str | None = None  # GET path answering 200 when ready; else any answer to the POST
    must_succeed = False  # the sample deduction must be 200 and wrk see no failed answer
    ready_timeout = 30.0
    warmup: int | None = None  # seconds of its own warm-up; None: --warmup's
    spread = False  # load spread over --spread customers instead of one
    redis = False  # gets a throwaway redis-server
    session = False  # the load runs in a session (POST /__admin/sessions, X-Capmock-Session)
    console = False  # the console is open during the load: it polls the journal

    def missing(self, capmock_help: str) -> str | None:
        """Why it cannot run on this machine (``capmock serve --help`` says what capmock
        can do), or None."""
        return None

    def prepare(self, inputs: Inputs) -> dict[str, str]:
        """Install or write what it needs (TargetError if it cannot); versions, for the record."""
        return {}

    @abstractmethod
    def argv(self, inputs: Inputs, port: int, redis_url: str | None) -> list[str]:
        """The command that starts it on ``port`` (Redis targets get their redis-server's URL)."""

    def env(self, inputs: Inputs) -> dict[str, str] | None:
        """Its environment; None inherits the harness's."""
        return None


STORES = {"memory": "memory", "sqlite": "SQLite", "redis": "Redis"}
FAILURES = (
    *("--fault", "status=599,user=1"),
    *("--fault", "reset,phase=after_commit,session=nobody"),
    *("--rate-limit", "1000000000/min"),
)
"""Failure instruments that are set but never act on the load: two faults that match
other calls (another customer; a session the load does not name) and a rate limit the
load never reaches, though every call is counted against it."""


class Capmock(Target):
    """``capmock serve`` on one store, with 1 or ``workers`` processes; the request journal
    on (the default), or off (``journal=False``: ``--journal-size 0``), and the load sent
    in a session or not, with the console open or not."""

    group = "capmock"
    health = "/__admin/health"
    must_succeed = True

    def __init__(
        self,
        store: str = "memory",
        workers: int | None = None,
        spread: int | None = None,
        *,
        journal: bool = True,
        session: bool = False,
        console: bool = False,
        failures: bool = False,
    ) -> None:
        self.store, self.workers, self.failures = store, workers, failures
        self.spread, self.redis = spread is not None, store == "redis"
        self.journal, self.session, self.console = journal, session, console
        suffixes = [*(["workers"] if workers else []), *(["spread"] if self.spread else [])]
        suffixes += [*([] if journal else ["bare"]), *(["session"] if session else [])]
        suffixes += ["console"] if console else []
        suffixes += ["failures"] if failures else []
        self.name = "-".join(["capmock", store, *suffixes])
        what = [f"capmock, {STORES[store]} store", f"{workers} workers" if workers else "1 worker"]
        if spread is not None:
            what.append(f"load over {spread:,} customers")
        if not journal:
            what.append("journal off")
        if session:
            what.append("journal on, in a session")
        if console:
            what.append("journal on, the console open (polling it every second)")
        if failures:
            what.append("2 faults and a rate limit set, none acting on the load")
        self.what = ", ".join(what)

    def missing(self, capmock_help: str) -> str | None:
        if self.failures and "--fault" not in capmock_help:
            return "skipped: capmock serve has no --fault yet"
        if self.store == "memory":
            return None
        if "--store" not in capmock_help:
            return "skipped: capmock serve has no --store yet"
        if self.workers and "--workers" not in capmock_help:
            return "skipped: capmock serve has no --workers yet"
        if self.redis and shutil.which("redis-server") is None:
            return "skipped: redis-server is not installed (apt-get install -y redis-server)"
        return None

    def argv(self, inputs: Inputs, port: int, redis_url: str | None) -> list[str]:
        fixtures = inputs.spread_fixtures if self.spread else inputs.fixtures
        words = [sys.executable, "-m", "capmock", "serve", "--fixtures", str(fixtures)]
        words += ["--host", HOST, "--port", str(port)]
        if self.store == "sqlite":
            words += ["--store", f"sqlite:///{inputs.tmp}/state-{port}.db"]
        if self.redis:
            if redis_url is None:
                raise TargetError("a Redis target started without a redis-server")
            words += ["--store", redis_url]
        if self.workers:
            words += ["--workers", str(self.workers)]
        if not self.journal:
            words += ["--journal-size", "0"]
        if self.failures:
            words += FAILURES
        return words

    def env(self, inputs: Inputs) -> dict[str, str]:
        return inputs.python_env()


def _needs_npm(tool: str) -> str | None:
    if shutil.which("npm") is None:
        return f"skipped: npm is not installed (apt-get install -y npm), so no {tool}"
    return None


class Prism(Target):
    """Stoplight Prism mocking the contract, with its default logging or ``-v silent``."""

    group = "prism"
    ready_timeout = 90.0

    def __init__(self, silent: bool) -> None:
        self.silent = silent
        self.name = "prism-silent" if silent else "prism"
        logging = "-v silent" if silent else "default logging"
        self.what = f"Stoplight Prism {PRISM.version}.x mock, {logging}"

    def missing(self, capmock_help: str) -> str | None:
        return _needs_npm("Prism")

    def prepare(self, inputs: Inputs) -> dict[str, str]:
        return {"prism": install(PRISM)}

    def argv(self, inputs: Inputs, port: int, redis_url: str | None) -> list[str]:
        binary = PRISM.directory / "node_modules" / ".bin" / "prism"
        verbosity = ["-v", "silent"] if self.silent else []
        return [str(binary), "mock", "-h", HOST, "-p", str(port), *verbosity, str(inputs.contract)]


class WireMock(Target):
    """WireMock standalone on the JVM: a stateless stub of capmock's success answer for the
    same POST and Basic header, the request journal and request logging off. Jetty's
    defaults otherwise (25 container threads, 3 acceptors, 2 selectors), so it uses every
    core. The JIT needs a longer warm-up than --warmup's default."""

    name = "wiremock"
    group = "wiremock"
    health = "/__admin/health"
    must_succeed = True
    ready_timeout = 90.0
    warmup = 20
    what = (
        f"WireMock {WIREMOCK.version}.x standalone, stateless stub, "
        "no request journal, request logging off"
    )
    FLAGS = ("--no-request-journal", "--disable-request-logging", "--disable-banner")

    def missing(self, capmock_help: str) -> str | None:
        if shutil.which("java") is None:
            return (
                "skipped: java is not installed (apt-get install -y default-jre-headless), "
                "so no WireMock"
            )
        return _needs_npm("WireMock")

    def prepare(self, inputs: Inputs) -> dict[str, str]:
        version = install(WIREMOCK)
        mappings = self.root(inputs) / "mappings"
        mappings.mkdir(parents=True, exist_ok=True)
        (mappings / "deduct.json").write_text(json.dumps(stub(), indent=2))
        return {"wiremock": version, "java": tool_version(["java", "-version"]) or "?"}

    @staticmethod
    def root(inputs: Inputs) -> Path:
        return inputs.tmp / "wiremock"

    def argv(self, inputs: Inputs, port: int, redis_url: str | None) -> list[str]:
        jar = WIREMOCK.root / "build" / f"wiremock-standalone-{WIREMOCK.installed()}.jar"
        words = ["java", "-jar", str(jar), "--bind-address", HOST, "--port", str(port)]
        return [*words, "--root-dir", str(self.root(inputs)), *self.FLAGS]


def stub() -> dict[str, object]:
    """WireMock's mapping: capmock's 200 answer to the deduction with the Basic header."""
    path, query = PATH.split("?", 1)
    name, value = query.split("=", 1)
    return {
        "request": {
            "method": "POST",
            "urlPath": path,
            "queryParameters": {name: {"equalTo": value}},
            "headers": {"Authorization": {"equalTo": AUTHORIZATION}},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(FIXED_BODY, separators=(",", ":")),
        },
    }


class PythonApp(Target):
    """A reference app of benchmarks/apps, served the way capmock serve serves."""

    group = "reference"

    def __init__(self, name: str, module: str, what: str) -> None:
        self.name, self.module, self.what = name, module, what

    def extra_args(self, inputs: Inputs) -> list[str]:
        return []

    def argv(self, inputs: Inputs, port: int, redis_url: str | None) -> list[str]:
        words = [sys.executable, "-m", self.module, "--host", HOST, "--port", str(port)]
        return words + self.extra_args(inputs)

    def env(self, inputs: Inputs) -> dict[str, str]:
        return inputs.python_env()


class BareConnexion(PythonApp):
    """Connexion over a copy of the contract without its security."""

    def __init__(self) -> None:
        super().__init__(
            "connexion",
            "benchmarks.apps.connexion_bare",
            "bare Connexion 3 AsyncApp, trivial handler",
        )

    @staticmethod
    def spec(inputs: Inputs) -> Path:
        return inputs.tmp / "capillary-no-security.yaml"

    def prepare(self, inputs: Inputs) -> dict[str, str]:
        spec = yaml.safe_load(inputs.contract.read_text())
        spec.pop("security", None)
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict):
                    operation.pop("security", None)
        self.spec(inputs).write_text(yaml.safe_dump(spec, sort_keys=False))
        return {}

    def extra_args(self, inputs: Inputs) -> list[str]:
        return ["--spec", str(self.spec(inputs))]


def all_targets(workers: int, spread: int) -> list[Target]:
    """Every target, in the table's order."""
    return [
        Capmock("memory"),
        # What the journal and sessions cost: the same load with the journal off, and in a
        # session with the journal on (the bound: at most 10% more CPU than off).
        Capmock("memory", journal=False),
        Capmock("memory", session=True),
        # What an open console costs: its page polls the journal once a second.
        Capmock("memory", console=True),
        Capmock("memory", failures=True),
        Capmock("sqlite"),
        Capmock("sqlite", workers),
        Capmock("redis"),
        Capmock("redis", workers),
        # The same stores with the load spread over many customers: what workers gain
        # when requests do not all queue on one customer's balance.
        Capmock("sqlite", spread=spread),
        Capmock("sqlite", workers, spread=spread),
        Capmock("redis", spread=spread),
        Capmock("redis", workers, spread=spread),
        Prism(silent=False),
        Prism(silent=True),
        WireMock(),
        PythonApp(
            "starlette",
            "benchmarks.apps.starlette_ceiling",
            "bare Starlette, fixed JSON (the ceiling)",
        ),
        BareConnexion(),
    ]

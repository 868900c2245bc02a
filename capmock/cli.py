"""The ``capmock`` command: one entry point, a subcommand per job.

Exit codes: 0 success, 1 the work failed (the server could not start, the target
broke the contract), 2 the command was used wrongly (bad option, bad fixture file).
"""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from capmock import __version__
from capmock.command import EXIT_FAILED, EXIT_USAGE, CapmockGroup, fail
from capmock.net import is_loopback_host
from contract_tests.diff.options import DIFF_SPECS
from contract_tests.options import click_options, click_options_for
from mock_server.data import DEFAULT_FIXTURES
from mock_server.instrument.journal import JOURNAL_SIZE
from mock_server.limits import Limits, parse_size
from mock_server.model import World
from mock_server.stores.base import LEDGER_TOTAL, MAX_SESSIONS

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mock_server.instrument.startup import FailureOptions
    from mock_server.stores.base import Store

APP_FACTORY = "mock_server.app:app_from_env"
DEFAULTS = Limits()


class Size(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes: 65536, 64KiB, 16MiB."""

    name = "SIZE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


SIZE = Size()


@click.group(
    "capmock",
    cls=CapmockGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="capmock")
def main() -> None:
    """Mock and contract-test Capillary's negativePointsAdjustment API.

    \b
    Start the mock on the default fixtures (Ctrl+C stops it):
      capmock serve
    Write starter fixtures and a test profile to this folder, then serve them:
      capmock init && capmock serve --fixtures capmock-fixtures.yaml
    Check a fixture file you wrote:
      capmock check my-world.yaml
    Check that a server honours the contract:
      capmock test --base-url http://127.0.0.1:8080
    Check that a change of the contract keeps its clients working:
      capmock compat --base origin/main openapi/capillary.yaml
    Check that the mock still answers like a live org:
      capmock diff --a http://127.0.0.1:8080 --b https://eu.api.capillarytech.com \\
        --profile-b my-org.yaml

    Errors read "capmock SUBCOMMAND: problem" on stderr. Exit codes: 0 success, 1 the
    work failed (the port is in use, the target broke the contract), 2 wrong usage.
    """


@main.command()
@click.option(
    "--fixtures",
    "fixtures_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_FIXTURES,
    show_default="the shipped fixtures/default.yaml",
    help="YAML or JSON file describing programs, customers, balances and credentials.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (the real port is printed).",
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Once listening, write the port to this file (for scripts; with --port 0).",
)
@click.option(
    "--store",
    "store_url",
    default="memory",
    show_default=True,
    envvar="CAPMOCK_STORE",
    metavar="URL",
    help="Where balances and ledgers live: memory (one process), sqlite:///state.db (kept "
    "across restarts, shared by the workers of one host), redis://host:6379/0 (shared by "
    "replicas on many hosts) or redis+cluster://host:6379 (the same, over a Redis "
    "Cluster). [env: CAPMOCK_STORE]",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes serving the same port; more than one needs a sqlite or redis store.",
)
@click.option(
    "--admin-token",
    envvar="CAPMOCK_ADMIN_TOKEN",
    help="Token the admin API (/__admin) demands in X-CAPMOCK-ADMIN-TOKEN. "
    "Required when --host is not a loopback address. [env: CAPMOCK_ADMIN_TOKEN]",
)
@click.option(
    "--token-secret",
    envvar="CAPMOCK_TOKEN_SECRET",
    help="Secret OAuth tokens are signed with. By default a sqlite or redis store holds "
    "one, so every worker and replica sharing the store accepts the tokens any of them "
    "issued; give the same secret to mocks that share no store. [env: CAPMOCK_TOKEN_SECRET]",
)
@click.option(
    "--ledger-entries",
    default=LEDGER_TOTAL,
    show_default=True,
    type=click.IntRange(1),
    envvar="CAPMOCK_LEDGER_ENTRIES",
    help="Ledger entries the memory and sqlite stores keep for all customers together: "
    "those of the newest deductions (each customer keeps at most 1,000). "
    "[env: CAPMOCK_LEDGER_ENTRIES]",
)
@click.option(
    "--journal-size",
    default=JOURNAL_SIZE,
    show_default=True,
    type=click.IntRange(0),
    envvar="CAPMOCK_JOURNAL_SIZE",
    help="Requests the journal (GET /__admin/requests) keeps, the newest; the oldest are "
    "dropped first and counted. 0 turns the journal off. [env: CAPMOCK_JOURNAL_SIZE]",
)
@click.option(
    "--max-sessions",
    default=MAX_SESSIONS,
    show_default=True,
    type=click.IntRange(1),
    envvar="CAPMOCK_MAX_SESSIONS",
    help="Sessions (POST /__admin/sessions) open at once; past it, 429. "
    "[env: CAPMOCK_MAX_SESSIONS]",
)
@click.option(
    "--latency",
    metavar="SPEC",
    help="Wait before serving every call of a Capillary operation: 80ms, 40-400ms (uniform) "
    "or lognormal:median=80ms,sigma=0.5. PUT /__admin/latency changes it while running.",
)
@click.option(
    "--rate-limit",
    metavar="RATE",
    help="At most RATE calls per API key (Basic user or OAuth client), e.g. 100/min as "
    "Capillary's demo clusters; past it 429 (code 9193) with Retry-After. Shared by every "
    "worker and replica of the store.",
)
@click.option(
    "--fault",
    "faults",
    metavar="SPEC",
    multiple=True,
    help="A fault, as POST /__admin/faults takes it, in short: e.g. 'code=9199,p=0.02', "
    "'reset,phase=after_commit,times=1', 'timeout,user=388034468'. Repeatable. The grammar: "
    "docs/integrating.md#testing-failure-handling.",
)
@click.option(
    "--seed",
    type=int,
    help="Keys the draws of faults with a probability, so that the same calls fail in the "
    "same order on every run (without it, one is drawn and printed).",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request on stdout.")
@click.option(
    "--max-body-size",
    type=SIZE,
    default=f"{DEFAULTS.max_body_bytes // 1024}KiB",
    show_default=True,
    help="Largest request body; more is refused with 413 (code 9130) before it is read whole.",
)
@click.option(
    "--max-fixture-size",
    type=SIZE,
    default=f"{DEFAULTS.max_fixture_bytes // 2**20}MiB",
    show_default=True,
    help="Largest fixture document PUT /__admin/fixtures takes (413, code 9130, beyond).",
)
@click.option(
    "--max-header-size",
    type=SIZE,
    default=f"{DEFAULTS.max_header_bytes // 1024}KiB",
    show_default=True,
    help="Largest request line plus headers (431, code 9131, beyond).",
)
@click.option(
    "--keep-alive",
    type=click.FloatRange(0.1),
    default=DEFAULTS.keep_alive_seconds,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection idle this long after an answer.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(0.1),
    default=DEFAULTS.request_timeout_seconds,
    show_default=True,
    metavar="SECONDS",
    help="Time for a request's line and headers, then its body, to arrive; a silent or "
    "slow connection is closed, a slow body refused with 408 (code 9132).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=DEFAULTS.max_connections,
    show_default=True,
    help="Connections served at once per worker (kept below the open-files limit, which "
    "is raised to its maximum). Past it the idlest is closed; if all are busy, 503 "
    "(code 9133).",
)
def serve(
    fixtures_path: Path,
    host: str,
    port: int,
    port_file: Path | None,
    store_url: str,
    workers: int,
    admin_token: str | None,
    token_secret: str | None,
    ledger_entries: int,
    journal_size: int,
    max_sessions: int,
    latency: str | None,
    rate_limit: str | None,
    faults: tuple[str, ...],
    seed: int | None,
    access_log: bool,
    max_body_size: int,
    max_fixture_size: int,
    max_header_size: int,
    keep_alive: float,
    request_timeout: float,
    max_connections: int,
) -> None:
    """Run the stateful mock over a fixture file.

    \b
    Examples:
      capmock serve
      capmock serve --fixtures my-world.yaml --port 9000
      capmock serve --port 0 --port-file capmock.port &
      capmock serve --host 0.0.0.0 --admin-token s3cret
      capmock serve --store sqlite:///capmock.db --workers 4
      capmock serve --store redis://127.0.0.1:6379/0 --workers 2
      capmock serve --max-body-size 1MiB --max-fixture-size 64MiB --max-connections 5000
      capmock serve --latency 40-400ms --rate-limit 100/min
      capmock serve --fault 'reset,phase=after_commit,times=1' --seed 7
    Then call it:
      curl -u store.server:8a16a6b70505eb1f1ff7cdc0cd5559a7 \\
        -H 'Content-Type: application/json' \\
        -d '{"pointsToBeAdjusted": "10", "reasonOfReturn": "Extra points were issued"}' \\
        'http://127.0.0.1:8080/v2/customers/388034468/negativePointsAdjustment?source=INSTORE'

    \b
    The mock is stateful: every deduction stays deducted until
    POST /__admin/reset puts the balances back to the fixtures'.
    A sqlite or redis store that already holds the same fixtures keeps its balances and
    ledger (a restart, another replica); other fixtures replace it and start afresh.
    The faults, latency, rate limit and seed of the command line replace those a store
    holds.

    \b
    Limits (sizes take 65536, 64KiB, 16MiB): what one client may ask of the mock.
    GET /__admin/fixtures hides passwords and secrets; with ?secrets=true it shows
    them to a caller sending the --admin-token (never on a mock without one).
    """
    from capmock import serving
    from mock_server.limits import LIMITS_ENV
    from mock_server.limits.connections import connection_limit, raise_open_files_limit
    from mock_server.stores.open import MEMORY_URLS

    world = _load_or_exit(fixtures_path)
    failures = _failures_or_exit(latency, rate_limit, faults, seed)
    if not is_loopback_host(host) and not admin_token:
        raise click.UsageError(
            f"--host {host} is reachable from other machines: give --admin-token "
            "(or CAPMOCK_ADMIN_TOKEN) so that strangers cannot reset or replace the mock."
        )
    if workers > 1 and store_url in MEMORY_URLS:
        raise click.UsageError(
            f"--workers {workers} needs a shared store: with --store memory every worker "
            "would keep its own balances, so a customer's balance would depend on which "
            "worker answered. Use --store sqlite:///capmock.db or --store redis://host:6379/0."
        )
    try:
        sock = serving.listen(host, port)
    except serving.PortInUseError as error:
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        fail(f"cannot listen on {host}:{port}: {reason}")

    limits = Limits(
        max_body_bytes=max_body_size,
        max_fixture_bytes=max_fixture_size,
        max_header_bytes=max_header_size,
        keep_alive_seconds=keep_alive,
        request_timeout_seconds=request_timeout,
        max_connections=max_connections,
    )
    open_files = raise_open_files_limit()  # workers inherit it
    store = _open_store_or_exit(store_url, world, ledger_entries)
    _install_or_exit(store, failures)
    port = serving.bound_port(sock)
    base = f"http://{_url_host(host)}:{port}"
    token_note = " (token required)" if admin_token else ""
    click.echo(f"capmock {__version__}: {_summary(world)} from {fixtures_path}")
    click.echo(f"  API        {base}/v2/customers/{{userId}}/negativePointsAdjustment")
    click.echo(f"  Swagger UI {base}/ui/")
    click.echo(f"  Admin      {base}/__admin/health{token_note}")
    click.echo(f"  Reset      POST {base}/__admin/reset puts every balance back")
    journal = f"{journal_size:,} newest requests" if journal_size else "off"
    click.echo(f"  Journal    GET {base}/__admin/requests ({journal})")
    click.echo(f"  Store      {_store_line(store_url, store)}")
    for line in failures.lines():
        click.echo(f"  {line}")
    if workers > 1:
        click.echo(f"  Workers    {workers}")
    if connection_limit(limits, open_files) < max_connections:
        click.echo(
            f"  Connections at most {connection_limit(limits, open_files)} per worker "
            f"(the open-files limit is {open_files})"
        )
    app: ASGIApp | str = APP_FACTORY
    if workers == 1:
        from mock_server.app import create_app

        app = create_app(
            store=store,
            admin_token=admin_token,
            token_secret=token_secret,
            limits=limits,
            journal_size=journal_size,
            max_sessions=max_sessions,
        )
        gc.freeze()  # the fixtures live as long as the server: keep them out of collections
    else:
        asyncio.run(store.close())  # each worker opens its own connection
        _configure_workers(
            store_url, admin_token, token_secret, ledger_entries, journal_size, max_sessions
        )
        os.environ[LIMITS_ENV] = limits.to_environ()
    if port_file is not None:  # the socket listens: a request from now on waits for an answer
        _write_port_file(port_file, port)
        click.echo(f"  Port file  {port_file}")
    click.echo("Press Ctrl+C to stop.")
    serving.run(app, sock, workers=workers, access_log=access_log, limits=limits)


def _write_port_file(path: Path, port: int) -> None:
    from capmock import serving

    try:
        serving.write_port_file(path, port)
    except OSError as error:
        fail(f"cannot write the port file {path}: {error.strerror}", EXIT_USAGE)


def _open_store_or_exit(url: str, world: World, ledger_entries: int) -> Store:
    from mock_server.stores.base import StoreError
    from mock_server.stores.open import open_store

    try:
        return open_store(url, world, ledger_total=ledger_entries)
    except StoreError as error:
        fail(f"cannot use the store {error}", EXIT_USAGE)


def _failures_or_exit(
    latency: str | None, rate_limit: str | None, faults: tuple[str, ...], seed: int | None
) -> FailureOptions:
    from mock_server.instrument import grammar
    from mock_server.instrument.startup import FailureOptions

    def read(option: str, spec: str, parse: Callable[[str], dict[str, Any]], schema: str) -> Any:
        try:
            return grammar.checked(parse(spec), schema)
        except grammar.SpecError as error:
            raise click.BadParameter(f"{spec!r}: {error}", param_hint=option) from None

    return FailureOptions(
        latency=None
        if latency is None
        else read("--latency", latency, grammar.parse_latency, "Delay"),
        rate_limit=None
        if rate_limit is None
        else read("--rate-limit", rate_limit, grammar.parse_rate, "RateLimit"),
        faults=[read("--fault", spec, grammar.parse_fault, "FaultRequest") for spec in faults],
        seed=seed,
    )


def _install_or_exit(store: Store, failures: FailureOptions) -> None:
    from mock_server.stores.base import StoreError

    try:
        failures.install(store)
    except StoreError as error:
        fail(f"cannot use the store {error}", EXIT_USAGE)


def _store_line(url: str, store: Store) -> str:
    from mock_server.stores.base import redacted

    if store.name == "memory":
        return "memory (this process only; gone when it stops)"
    if store.resumed:
        return f"{redacted(url)} (same fixtures as before: balances and ledgers kept)"
    return f"{redacted(url)} (fixtures loaded: balances start from them)"


def _configure_workers(
    store_url: str,
    admin_token: str | None,
    token_secret: str | None,
    ledger_entries: int,
    journal_size: int,
    max_sessions: int,
) -> None:
    """The environment ``app_from_env`` reads in each worker process. Without a token
    secret, the workers sign tokens with the one the shared store holds."""
    from mock_server import app

    os.environ[app.STORE_ENV] = store_url
    os.environ[app.LEDGER_ENTRIES_ENV] = str(ledger_entries)
    os.environ[app.JOURNAL_SIZE_ENV] = str(journal_size)
    os.environ[app.MAX_SESSIONS_ENV] = str(max_sessions)
    os.environ.pop(app.FIXTURES_ENV, None)  # loaded once, above: workers serve the store's
    for name, value in ((app.ADMIN_TOKEN_ENV, admin_token), (app.TOKEN_SECRET_ENV, token_secret)):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)


@main.command()
@click.argument("fixtures_path", type=click.Path(dir_okay=False, path_type=Path))
def check(fixtures_path: Path) -> None:
    """Check a fixture file and say what it defines, or every problem in it."""
    world = _load_or_exit(fixtures_path)
    click.echo(f"{fixtures_path}: OK, {_summary(world)}")


@main.command()
@click.argument(
    "folder",
    default=".",
    type=click.Path(file_okay=False, exists=True, writable=True, path_type=Path),
)
@click.option("--force", is_flag=True, help="Overwrite the files if they exist.")
def init(folder: Path, force: bool) -> None:
    """Write starter fixtures and a target profile to FOLDER (default: here).

    \b
    capmock-fixtures.yaml  a commented copy of the default world: edit it, then
                           capmock serve --fixtures capmock-fixtures.yaml
    capmock-profile.yaml   what capmock test expects on the target; it describes the
                           starter fixtures as written: capmock test --profile ...

    Existing files are left alone (exit 1) unless --force is given.
    """
    from capmock.starter import StarterExistsError, write_starter

    try:
        starter = write_starter(folder, force=force)
    except StarterExistsError as error:
        fail(f"{error}: --force overwrites")
    except OSError as error:
        fail(f"cannot write to {folder}: {error.strerror}")
    click.echo(f"wrote {starter.fixtures} and {starter.profile}")
    click.echo(f"next: capmock check {starter.fixtures}")
    click.echo(f"      capmock serve --fixtures {starter.fixtures}")


@main.command("test")
@click_options
def test_command(**values: object) -> None:
    """Check that a server honours the contract (exit 0) or show where not (exit 1).

    Before any test, one preflight request checks the credentials and that the target
    answers the contract. Then, on every operation (the deduction by userId and by
    identifier, the balance, the ledger, manualCurrencyAllocate, the token): Schemathesis
    (every phase and check), one test per documented error code and example, odd input,
    the whole userId range, random deduction sequences checked against a balance model,
    the model across endpoints (issue, deduct both ways, then the balance and the ledger
    must agree), and a race of simultaneous deductions. Every finding shows the request
    as curl, the response and what was expected. --report DIR writes index.html,
    findings.json and junit.xml.

    \b
    Safety: a target beyond loopback, or any with --live, is a live org: --profile is
    required, /__admin is never used, and every request that could write names the
    profile's unknown customer or identifier (or no customer at all), so that nothing
    can take a point even if the target accepted it; the balance and ledger reads name
    the test customer, as reading changes nothing. Tests that need to write are "not run
    (needs --allow-writes)". With --allow-writes they write to that customer only.

    \b
    Exit 2 for a usage error (bad option or profile, the target unreachable or
    refusing the credentials). The same suite runs under pytest:
      pytest contract_tests --base-url http://127.0.0.1:8080

    \b
    Examples:
      capmock test
      capmock test --base-url http://127.0.0.1:8080 --report reports/
      capmock test --print-profile > my-org.yaml
      capmock test --base-url https://eu.api.capillarytech.com --profile my-org.yaml --dry-run
      capmock test --base-url https://eu.api.capillarytech.com --profile my-org.yaml \\
        --oauth KEY:SECRET --allow-writes --race 3 --rate-limit 5/s --max-requests 500
    """
    from contract_tests.options import UsageError, options_from
    from contract_tests.runner import run

    try:
        options = options_from(values)
    except UsageError as error:
        fail(str(error), EXIT_USAGE)
    sys.exit(run(options))


@main.command()
@click.argument("contracts", nargs=-1, metavar="[OLD] NEW")
@click.option(
    "--base", metavar="REF", help="OLD is NEW's own path at this git ref, e.g. origin/main."
)
@click.option(
    "--fail-on",
    type=click.Choice(["ERR", "WARN"]),
    default="ERR",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "junit", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow annotations; junit a JUnit XML report.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--examples",
    default=100,
    show_default=True,
    type=click.IntRange(0),
    help="Messages generated per search of the property check; 0 turns it off.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the property check.")
def compat(
    contracts: tuple[str, ...],
    base: str | None,
    fail_on: str,
    fmt: str,
    output: Path | None,
    examples: int,
    seed: int,
) -> None:
    """Say whether clients of the OLD contract break under the NEW one.

    OLD and NEW are OpenAPI 3.0 files, or REF:path for a file at a git ref. Structural
    rules (in the spirit of oasdiff's), the enums, the error catalogue (x-capmock-errors)
    and a property-based check (requests valid under OLD sent to NEW, responses valid
    under NEW read by OLD, one minimal example per break) each report findings of
    severity ERR, WARN or INFO.

    \b
    Exit 0 compatible, 1 breaking (a finding at --fail-on or above), 2 usage error or a
    contract that cannot be read: that is never reported as "no breaking changes".

    \b
    Examples:
      capmock compat openapi/released/capillary.yaml openapi/capillary.yaml
      capmock compat --base origin/main openapi/capillary.yaml --format github
      capmock compat v1.0:openapi/capillary.yaml openapi/capillary.yaml --fail-on WARN
    """
    from contract_tests import compat as checker
    from contract_tests.compat import render

    if len(contracts) not in (1, 2) or (len(contracts) == 1) == (base is None):
        raise click.UsageError("give OLD and NEW, or --base REF and NEW")
    old, new = (None, contracts[0]) if len(contracts) == 1 else contracts

    def progress(line: str) -> None:
        click.echo(f"capmock compat: {line}", err=True)

    try:
        pair = checker.load_pair(old, new, base)
        report = checker.compare(*pair, checker.Budget(examples, seed), progress)
    except checker.CompatError as error:
        click.echo(f"capmock compat: {error}", err=True)
        _write(render.failure(fmt, str(error)), output)
        sys.exit(EXIT_USAGE)
    severity = checker.Severity[fail_on]
    _write(render.RENDERERS[fmt](report, severity), output)
    if output is not None:
        progress(f"{render.summary(report, severity)}; report in {output}")
    sys.exit(EXIT_FAILED if report.breaking(severity) else 0)


@main.command()
@click_options_for(DIFF_SPECS)
def diff(**values: object) -> None:
    """Send the same requests to two targets and report where their answers drift apart.

    Typically A is our mock and B a live org. Both get the cases of capmock test's
    plans, built from each one's profile, and their answers are compared: status, code,
    message (after substituting the values), the shape of the body, and the headers a
    client acts on (Content-Type, Allow, WWW-Authenticate, Retry-After, Location).
    Dates, request ids, tokens and (unless both are capmock on the same fixtures)
    balances are read alike; --ignore and --substitute add to that. Each drift comes
    with a suggestion where one exists.

    \b
    Safety: as in capmock test. A target is live unless it is capmock on loopback (and
    not given --live-a or --live-b): its profile is then required, and /__admin is never
    used. Without --allow-writes only
    requests that cannot take a point are sent, to either target; with it, writes go to
    each profile's test customer only. Each target gets the preflight first.

    \b
    Exit 0 no new drift (drifts in --baseline are known), 1 new drift, 2 usage error
    (bad option or baseline, a target unreachable or refusing the credentials).

    \b
    Examples:
      capmock diff --a http://127.0.0.1:8080 --b http://127.0.0.1:9090
      capmock diff --a http://127.0.0.1:8080 --b https://eu.api.capillarytech.com \\
        --profile-b my-org.yaml --oauth-b KEY:SECRET --rate-limit 5/s --dry-run
      capmock diff --a http://127.0.0.1:8080 --b https://eu.api.capillarytech.com \\
        --profile-b my-org.yaml --baseline drift.json --update-baseline
      capmock diff --a http://127.0.0.1:8080 --b https://eu.api.capillarytech.com \\
        --profile-b my-org.yaml --baseline drift.json --format github --report diff/
      capmock diff --a http://127.0.0.1:8080 --b http://127.0.0.1:9090 \\
        --ignore '$.warnings' --ignore Retry-After --substitute 'req-[0-9a-f]+=<id>'
    """
    from contract_tests.diff.options import diff_options_from
    from contract_tests.diff.run import run
    from contract_tests.options import UsageError

    try:
        options = diff_options_from(values)
    except UsageError as error:
        fail(str(error), EXIT_USAGE)
    sys.exit(run(options))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    elif text:
        output.write_text(text, encoding="utf-8")


def _load_or_exit(path: Path) -> World:
    from mock_server.fixtures import FixtureError, load_fixtures

    try:
        return load_fixtures(path)
    except FixtureError as error:
        fail(f"the fixtures were refused:\n{error}", EXIT_USAGE)


def _summary(world: World) -> str:
    return (
        f"{len(world.programs)} programs, {len(world.customers)} customers, "
        f"{len(world.promotions)} promotions, {len(world.awards)} awards, "
        f"{len(world.users)} users, {len(world.oauth_clients)} OAuth clients"
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

"""The deep Schemathesis phases in a second process, on a second mock, beside the rest.

Most of a default run is Schemathesis generating data: CPU time in one Python process,
so one core works while the other waits. When the run started its own mock and sets no
request limits, it starts two identical mocks; a worker process (``python -m
contract_tests.beside``) runs the stateful and examples phases against the second while
the other tests use the first. Each phase sends and checks exactly what it would in
line; its findings come back, pickled, on the worker's standard output. A run with
--base-url, --rate-limit or --max-requests runs every phase in line, so that one target
sees one run and the limits hold for the whole run.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from contract_tests.findings import Finding
from contract_tests.options import Options
from contract_tests.target import Traffic

PHASES = ("examples", "stateful")
"""The phases sent to the worker, in this order. Measured in CPU seconds (default run,
--max-examples 50): stateful 7.1, model test 3.4, fuzzing 2.8, coverage 2.2, examples 0.6,
everything else about 2.4; so the worker (1.3 to start) takes stateful, and examples,
which it finishes before the suite asks for it, and the two processes end together."""
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    findings: list[Finding]
    traffic: Traffic
    error: str | None = None


class PhasesBeside:
    """A worker process running ``PHASES`` against the mock at ``base_url``."""

    def __init__(self, options: Options, base_url: str) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "contract_tests.beside"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
        )
        assert self._process.stdin is not None
        pickle.dump(replace(options, base_url=base_url), self._process.stdin)
        self._process.stdin.close()
        self._done: dict[str, PhaseResult] = {}

    def result(self, phase: str) -> PhaseResult:
        """Wait for ``phase`` to finish in the worker."""
        assert self._process.stdout is not None
        while phase not in self._done:
            try:
                found: PhaseResult = pickle.load(self._process.stdout)
            except EOFError:
                code = self._process.wait()
                self._errors.seek(0)
                said = self._errors.read().decode("utf-8", "replace").strip()[-2000:]
                raise RuntimeError(
                    f"the worker running the {phase} phase stopped (exit code {code}): {said}"
                ) from None
            self._done[found.phase] = found
        return self._done[phase]

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait(10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._errors.close()


def _work(options: Options, results: BinaryIO) -> None:
    """Run each phase against the second mock and hand its result over."""
    from contract_tests.schema_run import run_phase
    from contract_tests.session import build_target

    assert options.base_url is not None
    target = build_target(options, options.base_url)
    try:
        for phase in PHASES:
            target.traffic = Traffic()
            try:
                findings = run_phase(
                    target, phase, max_examples=options.max_examples, seed=options.seed
                )[0]
                result = PhaseResult(phase, findings, target.traffic)
            except Exception as error:
                result = PhaseResult(phase, [], Traffic(), f"{type(error).__name__}: {error}")
            pickle.dump(result, results)
            results.flush()
    finally:
        target.close()


def main() -> None:
    options = pickle.load(sys.stdin.buffer)
    results = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)  # what libraries print must not reach results
    os.dup2(devnull, 1)
    os.close(devnull)
    _work(options, results)


if __name__ == "__main__":
    # Run as ``-m``, this file is ``__main__``: results must pickle as the classes of
    # ``contract_tests.beside``, which the parent knows.
    from contract_tests.beside import main as worker_main

    worker_main()

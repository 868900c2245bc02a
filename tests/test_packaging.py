"""The installed wheel finds its own contract and fixtures, even beside an unrelated
PyPI package named ``fixtures`` (which shadowed capmock's data before)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from support import ROOT, free_port, stop_process, wait_until


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_wheel_finds_its_data_beside_a_package_named_fixtures(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path, ROOT, cwd=tmp_path)
    (wheel,) = tmp_path.glob("capmock-*.whl")
    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    run(bin_dir / "pip", "install", "-q", wheel, "fixtures", cwd=tmp_path)
    unrelated = run(
        bin_dir / "python", "-c", "import fixtures; print(fixtures.__file__)", cwd=tmp_path
    )
    assert "site-packages/fixtures/" in unrelated

    checked = run(
        bin_dir / "capmock", "check", ROOT / "tests" / "data" / "hundred.yaml", cwd=tmp_path
    )
    assert checked.strip().endswith(
        "OK, 1 programs, 1 customers, 0 promotions, 0 awards, 1 users, 0 OAuth clients"
    )

    port = free_port()
    serving = subprocess.Popen(
        [bin_dir / "capmock", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/__admin/health", timeout=1).is_success
            except httpx.TransportError:
                return False

        wait_until(healthy, "the installed capmock serve", serving)
        health = httpx.get(f"http://127.0.0.1:{port}/__admin/health").json()
        assert health["customers"] == 5  # the shipped default fixtures
        ui = httpx.get(f"http://127.0.0.1:{port}/ui/")
        assert ui.status_code == 200  # the shipped contract, in Swagger UI
        for name in ("", "console.js", "console.css"):  # the console's files, as package data
            console = httpx.get(f"http://127.0.0.1:{port}/__admin/console/{name}")
            assert console.status_code == 200 and len(console.content) > 1000, name
    finally:
        stop_process(serving)

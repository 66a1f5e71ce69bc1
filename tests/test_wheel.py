"""A plain ``pip install`` of the wheel works away from the checkout: reports and a dashboard.

Builds the wheel from the checkout's files, installs it (without its dependencies, which the
test environment already has) into a fresh virtual environment made with
``--system-site-packages``, and runs the installed command from a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from bltanalytics.dashboards.serve import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _checkout_files() -> list[str]:
    """The files a build sees: tracked and untracked-but-not-ignored (as in a fresh clone)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _clean_env() -> dict[str, str]:
    """This environment without anything that would import the checkout instead of the wheel."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("the wheel test builds from a git checkout (git ls-files)")
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        env=_clean_env(),
        cwd=base,
    )
    (wheel,) = dist.glob("bltanalytics-*.whl")
    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + [str(wheel)],
        check=True,
        env=_clean_env(),
        cwd=base,
    )
    work = base / "elsewhere"
    work.mkdir()
    return {"wheel": wheel, "python": python, "bin": env_dir / "bin", "work": work}


def _run(installed, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args),
        cwd=installed["work"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_wheel_carries_every_notebook_the_templates_and_the_sample(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    notebooks = {p.relative_to(REPO / "notebooks") for p in (REPO / "notebooks").rglob("*.ipynb")}
    notebooks = {p for p in notebooks if ".ipynb_checkpoints" not in p.parts}
    assert {p.parts[0] for p in notebooks} >= {"reports", "dashboards", "explore"}
    for path in notebooks:
        assert f"bltanalytics/_bundled/notebooks/{path.as_posix()}" in names
    for path in (REPO / "data" / "sample").iterdir():
        assert f"bltanalytics/_bundled/sample/{path.name}" in names
    assert "bltanalytics/templates/bltreport/index.html.j2" in names
    # one copy in git: the bundle exists only inside the wheel
    assert not (REPO / "bltanalytics" / "_bundled").exists()


def test_the_installed_copy_is_imported_and_finds_its_files(installed):
    code = (
        "import bltanalytics, bltanalytics.resources as r; "
        "print(bltanalytics.__file__); print(r.notebooks_dir()); print(r.sample_district())"
    )
    result = _run(installed, str(installed["python"]), "-c", code)
    assert result.returncode == 0, result.stderr
    package, notebooks, sample = (Path(line) for line in result.stdout.split())
    venv_dir = installed["python"].parents[1]
    assert package.is_relative_to(venv_dir), package  # not the editable checkout
    assert notebooks.is_relative_to(venv_dir) and (notebooks / "reports").is_dir()
    assert sample.is_relative_to(venv_dir) and (sample / "schools.csv").is_file()


def test_reports_run_from_the_installed_package(installed):
    sample = installed["python"].parents[1].glob("lib/python*/site-packages/bltanalytics")
    (package,) = list(sample)
    out = installed["work"] / "X"
    command = [str(installed["bin"] / "bltanalytics"), "reports", str(package / "_bundled/sample")]
    result = _run(installed, *command, "--out", str(out), "--schools", "0101", "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 written, 0 up to date, 0 failed" in result.stdout
    page = (out / "school_0101.html").read_text(encoding="utf-8")
    assert "<figure" in page and 'font-size="18px"' in page  # charts, with the package theme
    assert (out / "district_summary.html").exists()


def test_a_dashboard_starts_from_the_installed_package(installed):
    port = free_port()
    command = [str(installed["bin"] / "bltanalytics"), "dashboard", "explorer", "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=installed["work"],
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    status = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
                    status = reply.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: Voilà stops its kernels
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    assert status == 200, output[-3000:]

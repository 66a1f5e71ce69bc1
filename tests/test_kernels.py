"""Warm kernels: no state leaks between schools, same outputs as fresh kernels, recycling."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from papermill.exceptions import PapermillExecutionError

from bltanalytics.reports.kernels import (
    FastStartKernelManager,
    KernelPool,
    WarmKernel,
    _fast_launch_command,
    run_fresh,
)

NOTEBOOKS = Path(__file__).parent / "notebooks"
TOY = NOTEBOOKS / "toy_report.ipynb"
POLLUTER = NOTEBOOKS / "polluter.ipynb"
PROBE = NOTEBOOKS / "probe.ipynb"

#: What probe.ipynb sees in a kernel nobody has used (checked against a fresh kernel too).
#: The execution count is compared with the fresh kernel's only: inside a running cell,
#: IPython 8 reads the cell's own number and IPython 9 the next one.
CLEAN_STATE = {
    "names": [],
    "builtin": False,
    "__name__": "__main__",
    "underscore": "",
    "In": [""],
    "Out": [],
    "env": None,
    "sys_path_leak": False,
    "cwd": str(NOTEBOOKS.resolve()),
    "max_rows": 60,
    "renderer": "default",
    "ignored_leak_warning": False,
    "post_run_cell_callbacks": 0,
    "alias": False,
    "annotation": "<class 'int'>",
}


@pytest.fixture(scope="module")
def kernel():
    """One warm kernel shared by the tests of this module; it must be gone afterwards."""
    with WarmKernel(recycle_every=1000) as warm:
        warm.start()
        pid = warm.pid
        yield warm
        assert warm.starts == 1  # no test made it restart: every notebook ran on one kernel
    assert not alive(pid)


def probe_state(nb: nbformat.NotebookNode) -> dict:
    return json.loads(nb.cells[0].outputs[0].text)


def comparable(nb: nbformat.NotebookNode) -> tuple:
    """What two runs of a notebook must share: everything but timings and random cell ids."""
    cells = [
        (
            cell.cell_type,
            cell.source,
            cell.get("execution_count"),
            cell.get("outputs", []),
            cell.metadata.get("tags", []),
            cell.metadata.get("papermill", {}).get("status"),
        )
        for cell in nb.cells
    ]
    papermill = nb.metadata.papermill
    return cells, papermill["parameters"], papermill["exception"], nb.metadata.language_info


# --------------------------------------------------------------------------------------------
# start-up fix (no kernel)
# --------------------------------------------------------------------------------------------

IRI_CHECK = """
import json, sys
{setup}
import jsonschema
loaded_at_import = "rfc3987_syntax.syntax_helpers" in sys.modules
v = jsonschema.Draft202012Validator(
    {{"format": "iri"}}, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
answers = [v.is_valid(x) for x in ("https://example.org/caf\\u00e9", "http://exa mple.org", "x")]
print(json.dumps([loaded_at_import, answers]))
"""


def run_python(code: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_deferred_grammar_is_not_built_at_import_and_validates_the_same():
    plain = run_python(IRI_CHECK.format(setup=""))
    deferred = run_python(
        IRI_CHECK.format(
            setup="from bltanalytics.reports.kernels import defer_rfc3987_grammar\n"
            "assert defer_rfc3987_grammar()"
        )
    )
    assert plain == [True, [True, False, False]]  # the import tax is real without the hook
    assert deferred == [False, [True, False, False]]  # not built at import, same answers


def test_fast_start_command_swaps_only_this_pythons_ipykernel_launcher():
    km = FastStartKernelManager(kernel_name="python3")
    km._launch_args = {}
    cmd = km.format_kernel_cmd()
    assert cmd[0] == sys.executable
    assert cmd[1] == "-c" and "defer_rfc3987_grammar()" in cmd[2]
    assert "ipykernel_launcher" not in cmd and "{connection_file}" not in " ".join(cmd)
    other = ["/opt/other/bin/python", "-m", "ipykernel_launcher", "-f", "c.json"]
    assert _fast_launch_command(other) == other
    r_kernel = ["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"]
    assert _fast_launch_command(r_kernel) == r_kernel


def test_pool_gives_each_thread_its_own_kernel():
    with KernelPool(recycle_every=7) as pool:
        mine = pool.kernel()
        theirs = []
        thread = threading.Thread(target=lambda: theirs.append(pool.kernel()))
        thread.start()
        thread.join()
        assert pool.kernel() is mine
        assert theirs[0] is not mine
        assert {k.recycle_every for k in pool.kernels} == {7}
        assert len(pool.kernels) == 2
    assert pool.kernels == ()


def test_recycle_every_must_be_positive():
    with pytest.raises(ValueError, match="recycle_every"):
        WarmKernel(recycle_every=0)


# --------------------------------------------------------------------------------------------
# real kernels
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_nothing_from_one_school_is_visible_to_the_next(kernel, tmp_path):
    starts, pid = kernel.starts, kernel.pid
    polluted = kernel.run_notebook(POLLUTER, tmp_path / "polluter.ipynb")
    # the polluter really ran, with its __future__ import in force
    assert polluted.cells[-1].outputs[0].data["text/plain"] == "{'x': 'int'}"
    assert polluted.cells[2].outputs[0].data["text/plain"] == "42"

    warm = probe_state(kernel.run_notebook(PROBE, tmp_path / "probe.ipynb"))
    assert (kernel.starts, kernel.pid) == (starts, pid)  # same kernel: nothing was restarted
    fresh = probe_state(run_fresh(PROBE, tmp_path / "probe_fresh.ipynb"))

    assert {key: warm[key] for key in CLEAN_STATE} == CLEAN_STATE
    assert warm == fresh


@pytest.mark.slow
def test_warm_and_fresh_kernels_give_identical_notebooks(kernel, tmp_path):
    kernel.run_notebook(TOY, tmp_path / "first.ipynb", {"school_id": "0101", "rows": 5})
    warm = kernel.run_notebook(TOY, tmp_path / "warm.ipynb", {"school_id": "0202"})
    fresh = run_fresh(TOY, tmp_path / "fresh.ipynb", {"school_id": "0202"})

    assert comparable(warm) == comparable(fresh)
    assert warm.metadata.papermill.parameters == {"school_id": "0202"}
    injected = [c for c in warm.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected[0].source == '# Parameters\nschool_id = "0202"\n'
    outputs = [o for c in warm.cells for o in c.get("outputs", [])]
    assert outputs[0].text == "school_id='0202' (str)\n"  # the id stayed a string
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)


@pytest.mark.slow
def test_kernels_start_without_the_grammar_import_tax(kernel, tmp_path):
    code = (
        "import sys\n\nimport altair  # noqa: F401\nimport jsonschema  # noqa: F401\n\n"
        'print([m for m in ("jsonschema", "rfc3987_syntax", "rfc3987_syntax.syntax_helpers")'
        " if m in sys.modules])"
    )
    notebook = write_notebook(tmp_path / "modules.ipynb", code)
    expected = "['jsonschema', 'rfc3987_syntax']\n"
    assert kernel.run_notebook(notebook, tmp_path / "w.ipynb").cells[0].outputs[0].text == expected
    assert run_fresh(notebook, tmp_path / "f.ipynb").cells[0].outputs[0].text == expected


@pytest.mark.slow
def test_no_open_file_growth_over_many_notebooks(kernel, tmp_path):
    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    for _ in range(2):
        kernel.run_notebook(PROBE, tmp_path / "p.ipynb")
    before, starts = open_files(), kernel.starts
    for _ in range(10):
        kernel.run_notebook(PROBE, tmp_path / "p.ipynb")
    assert kernel.starts == starts
    assert open_files() - before <= 2


@pytest.mark.slow
def test_kernel_is_recycled_every_n_notebooks_and_after_a_failure(tmp_path):
    pid_nb = write_notebook(tmp_path / "pid.ipynb", "import os\n\nprint(os.getpid())")
    fail_nb = write_notebook(tmp_path / "fail.ipynb", 'raise ValueError("no data for FAIL")')
    with WarmKernel(recycle_every=2, preload=()) as warm:
        pids = []
        for i in range(3):
            nb = warm.run_notebook(pid_nb, tmp_path / f"{i}.ipynb")
            pids.append(int(nb.cells[0].outputs[0].text))
            assert pids[-1] == warm.pid
        assert warm.starts == 2
        assert pids[0] == pids[1] != pids[2]

        with pytest.raises(PapermillExecutionError, match="no data for FAIL"):
            warm.run_notebook(fail_nb, tmp_path / "failed.ipynb")
        assert not warm.started  # a failure retires the kernel at once
        failed = nbformat.read(tmp_path / "failed.ipynb", as_version=4)
        assert failed.metadata.papermill.exception is True  # written out, error and all

        nb = warm.run_notebook(pid_nb, tmp_path / "next.ipynb")
        assert warm.starts == 3
        pids.append(int(nb.cells[0].outputs[0].text))
        assert pids[-1] not in pids[:-1]
    assert [pid for pid in pids if alive(pid)] == []  # every kernel it started is gone


def write_notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_comparable_ignores_only_timings_and_ids():
    nb = nbformat.read(TOY, as_version=4)
    nb.metadata["papermill"] = {"parameters": {}, "exception": None}
    nb.metadata["language_info"] = {"name": "python"}
    other = copy.deepcopy(nb)
    other.cells[0]["id"] = "another-id"
    other.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    assert comparable(nb) == comparable(other)
    other.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    assert comparable(nb) != comparable(other)

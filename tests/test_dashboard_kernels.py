"""Kernel lifetime and the visitor ceiling of the dashboards, without a browser.

The browser side (pages closed, reloaded, a visitor past the ceiling) is in
``tests/test_dashboards_browser.py``.
"""

from __future__ import annotations

import asyncio
import re
import signal

import pytest

from bltanalytics.dashboards import serve
from bltanalytics.dashboards.voila_app import (
    GATE_SETTING,
    DashboardPageHandler,
    DashboardVoila,
    VisitorGate,
    _PageKernels,
    full_page,
)
from bltanalytics.errors import BltError


def test_gate_counts_admitted_pages_and_their_kernels():
    live = {"pool-1"}
    gate = VisitorGate(lambda: set(live), max_kernels=2)
    first, second = gate.admit(), gate.admit()
    assert gate.in_use() == 2 and gate.refusal() == "full"
    live.add("k1")
    gate.holds(first, "k1")
    gate.release(first)  # the page is rendered; its kernel still counts
    assert gate.in_use() == 2
    gate.release(second)  # a request that ended before it got a kernel
    assert gate.in_use() == 1 and gate.refusal() is None
    live.discard("k1")  # shut down (beacon, disconnect, culler)
    assert gate.in_use() == 0
    assert "pool-1" in live  # pool kernels are nobody's


def test_gate_without_ceiling_still_minds_memory():
    free = [10_000.0]
    gate = VisitorGate(
        lambda: set(), max_kernels=0, memory_floor_mb=2048, available_mb=lambda: free[0]
    )
    for _ in range(50):
        gate.admit()
    assert gate.refusal() is None
    free[0] = 1500.0
    assert gate.refusal() == "memory"


def test_page_kernels_records_the_kernel_a_page_gets():
    class Manager:
        notebook_data = {"nb": 1}

        async def get_rendered_notebook(self, notebook_name, **kwargs):
            return "task", ["<p>"], "pooled-7"

        def start_kernel(self, **kwargs):  # jupyter_client managers may be sync or async
            return "fresh-3"

    got: list[str] = []
    proxy = _PageKernels(Manager(), got.append)
    assert proxy.notebook_data == {"nb": 1}
    assert asyncio.run(proxy.get_rendered_notebook(notebook_name="x"))[2] == "pooled-7"
    assert asyncio.run(proxy.start_kernel(kernel_name="python3")) == "fresh-3"
    assert got == ["pooled-7", "fresh-3"]


def test_full_page_is_plain_and_self_contained():
    page = full_page(places=12, retry_after=60)
    assert "The dashboard is full" in page and "All 12 places are taken" in page
    assert "try again in a minute" in page
    assert '<meta http-equiv="refresh" content="60">' in page
    assert not re.search(r"<script|https?://|src=|<link", page)


def test_default_ceiling_from_memory():
    n, why = serve.default_max_kernels(2, available_mb=24 * 1024, kernel_mb=250, reserve_mb=2048)
    assert n == (24 * 1024 - 2048) // 250 - 2
    assert "24.0 GB" in why and "250 MB" in why and "2 for the pool" in why
    assert serve.default_max_kernels(0, available_mb=2048 + 250 * 5, kernel_mb=250)[0] == 5
    assert serve.default_max_kernels(2, available_mb=500)[0] == 1  # never 0


def test_voila_arguments_carry_ceiling_culling_and_release():
    args = serve.voila_arguments("explorer", max_kernels=7, cull_idle=60)
    assert args[1:3] == ["-m", "bltanalytics.dashboards.voila_app"]
    assert "--DashboardVoila.max_kernels=7" in args
    assert "--MappingKernelManager.cull_idle_timeout=60" in args
    assert "--MappingKernelManager.cull_interval=15" in args
    assert f"--DashboardKernelManager.release_after={serve.RELEASE_AFTER_SECONDS}" in args
    assert f"--DashboardVoila.memory_floor_mb={serve.MEMORY_RESERVE_MB}" in args
    assert "--MappingKernelManager.cull_idle_timeout=120" in serve.voila_arguments("rubric")


def test_start_refuses_a_ceiling_below_one():
    with pytest.raises(BltError, match="--max-kernels must be at least 1"):
        serve.start("explorer", max_kernels=0)


def test_voila_app_reads_its_options_and_swaps_the_page_handler(tmp_path):
    notebook = serve.notebook_path("explorer")
    app = DashboardVoila()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        app.initialize(
            [
                str(notebook),
                f"--Voila.root_dir={notebook.parent}",
                "--DashboardVoila.max_kernels=3",
                "--DashboardVoila.memory_floor_mb=100",
            ]
        )
    finally:
        signal.signal(signal.SIGTERM, previous)  # Voilà installs its own
    assert app.max_kernels == 3 and app.memory_floor_mb == 100
    manager_class = app.voila_configuration.multi_kernel_manager_class
    assert manager_class.__name__ == "DashboardKernelManager"
    app.connection_dir = str(tmp_path)
    settings = app.init_settings()  # no preheating asked: no kernel starts
    gate = settings[GATE_SETTING]
    assert gate.max_kernels == 3 and gate.memory_floor_mb == 100 and gate.in_use() == 0
    handlers = app.init_handlers()
    pages = [entry for entry in handlers if entry[0].endswith("/(.*)") and "voila" not in entry[0]]
    assert pages and all(entry[1] is DashboardPageHandler for entry in pages)


def test_pages_render_a_few_at_a_time_first_come_first_served():
    gate = VisitorGate(lambda: set(), max_rendering=2)
    order: list[str] = []

    async def page(name: str, seconds: float):
        async with gate.rendering():
            order.append(f"{name} starts")
            await asyncio.sleep(seconds)
            order.append(f"{name} done")

    async def room():
        await asyncio.gather(page("a", 0.05), page("b", 0.05), page("c", 0.0))

    asyncio.run(room())
    assert order.index("c starts") > min(order.index("a done"), order.index("b done"))
    assert VisitorGate(lambda: set()).rendering() is not None  # no limit: a no-op context

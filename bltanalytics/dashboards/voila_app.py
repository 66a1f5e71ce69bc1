"""Standalone Voilà, with kernels that are freed when their page goes and a ceiling on visitors.

``python -m bltanalytics.dashboards.voila_app NOTEBOOK --Voila.ip=... ...`` is ``python -m
voila`` (every Voilà option works the same) plus three things a training room needs:

1. **A closed or reloaded page frees its kernel at once.** Voilà's page sends
   ``POST /voila/api/shutdown/<kernel>`` (``navigator.sendBeacon``) on ``beforeunload``, with the
   ``_xsrf`` form field read from the ``_xsrf`` cookie. Standalone Voilà never sets that cookie
   (its page handler does not touch tornado's ``xsrf_token``), so the field is empty and
   jupyter_server answers *403 '_xsrf' argument missing from POST* (voila-dashboards/voila#1458).
   :class:`DashboardPageHandler` sets the cookie with the page, so the beacon carries the token
   the server expects.
2. **A page that vanishes without a word** (a phone's browser dropping it, a crashed tab: no
   ``beforeunload``) frees its kernel too: when a visitor kernel's last websocket closes and none
   reconnects within :attr:`DashboardKernelManager.release_after` seconds, it is shut down.
   Kernels that never connected are left to the idle culler
   (``--MappingKernelManager.cull_idle_timeout``, set by the launcher).
3. **A ceiling.** At most :attr:`DashboardVoila.max_kernels` visitors hold a kernel at once (the
   preheated pool comes on top); a visitor past it, or arriving while the machine has less than
   :attr:`DashboardVoila.memory_floor_mb` of memory available, gets a plain *"the dashboard is
   full"* page (HTTP 503, ``Retry-After``) that tries again by itself, never a hung page.
4. **Pages drawn a few at a time** (:attr:`DashboardVoila.max_rendering`, the CPU count),
   first come first served, so on two cores the first of a room arriving at once are served
   in seconds instead of all of them late.

>>> from bltanalytics.dashboards.voila_app import full_page
>>> "try again in a minute" in full_page(places=12, retry_after=60)
True
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
from collections.abc import Callable

import psutil
import tornado.web
from jupyter_core.utils import ensure_async
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import IOLoop
from traitlets import Float, Integer, Set
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

#: the key of the :class:`VisitorGate` in the tornado application settings
GATE_SETTING = "bltanalytics_gate"

_FULL_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{retry_after}">
<title>The dashboard is full</title>
<style>
  body {{ font: 1.3rem/1.5 system-ui, sans-serif; max-width: 34rem; margin: 4rem auto;
         padding: 0 1.2rem; color: #222; }}
  h1 {{ font-size: 1.8rem; }}
</style>
</head>
<body class="blt-full">
<h1>The dashboard is full</h1>
<p>{why}</p>
<p><strong>Please try again in a minute.</strong> This page tries again by itself.</p>
</body>
</html>
"""


def full_page(*, places: int | None, retry_after: int) -> str:
    """The plain page a visitor past the ceiling gets (no script, no external asset).

    ``places`` is the ceiling that was reached, or ``None`` when memory ran short.

    >>> page = full_page(places=None, retry_after=30)
    >>> 'content="30"' in page and "memory" in page
    True
    """
    if places is None:
        why = "The computer showing it is short of memory right now."
    else:
        why = f"All {int(places)} places are taken right now."
    return _FULL_PAGE.format(retry_after=int(retry_after), why=html.escape(why))


class VisitorGate:
    """Counts the kernels visitors hold and decides whether one more visitor gets a page.

    A visitor holds a kernel from the moment its page request is admitted (a *ticket*) until
    the kernel is shut down; kernels still in Voilà's preheated pool are nobody's.
    ``max_kernels=0`` means no ceiling; ``memory_floor_mb=0`` means no memory check.

    >>> gate = VisitorGate(lambda: set(), max_kernels=1)
    >>> gate.refusal() is None
    True
    >>> ticket = gate.admit()
    >>> gate.refusal()
    'full'
    >>> gate.release(ticket)
    >>> gate.refusal() is None
    True
    """

    def __init__(
        self,
        live_kernels: Callable[[], set[str]],
        *,
        max_kernels: int = 0,
        memory_floor_mb: int = 0,
        available_mb: Callable[[], float] | None = None,
        max_rendering: int = 0,
    ) -> None:
        self._live = live_kernels
        #: pages rendered at once (0: no limit); later arrivals queue, first come first served
        self.max_rendering = int(max_rendering)
        self._rendering = asyncio.Semaphore(self.max_rendering) if self.max_rendering else None
        self.max_kernels = int(max_kernels)
        self.memory_floor_mb = int(memory_floor_mb)
        self._available_mb = available_mb or (lambda: psutil.virtual_memory().available / 2**20)
        self._visitor_kernels: set[str] = set()
        self._pending: set[object] = set()

    def in_use(self) -> int:
        """Kernels held by visitors now, counting admitted pages still waiting for theirs."""
        self._visitor_kernels &= self._live()
        return len(self._visitor_kernels) + len(self._pending)

    def refusal(self) -> str | None:
        """``None`` if one more visitor can be served; else ``'full'`` or ``'memory'``."""
        if self.max_kernels > 0 and self.in_use() >= self.max_kernels:
            return "full"
        if self.memory_floor_mb > 0 and self._available_mb() < self.memory_floor_mb:
            return "memory"
        return None

    def admit(self) -> object:
        """Reserve a place for a page being rendered; give the ticket to :meth:`holds`."""
        ticket = object()
        self._pending.add(ticket)
        return ticket

    def holds(self, ticket: object, kernel_id: str) -> None:
        """The page of ``ticket`` now holds ``kernel_id``."""
        self._visitor_kernels.add(kernel_id)
        self._pending.discard(ticket)

    def release(self, ticket: object) -> None:
        """The page request of ``ticket`` is over (its kernel, if any, stays counted)."""
        self._pending.discard(ticket)

    def rendering(self):
        """A slot to render a page in: with 2 cores, two pages drawn one after the other are
        both ready sooner than ten drawn at once, all of them late (and their browsers parse
        the page's scripts only once it comes)."""
        return self._rendering or contextlib.nullcontext()


class _PageKernels:
    """The kernel manager as one page request sees it: records the kernel the page gets."""

    def __init__(self, manager, on_kernel: Callable[[str], None]) -> None:
        self._manager = manager
        self._on_kernel = on_kernel

    def __getattr__(self, name):
        return getattr(self._manager, name)

    async def get_rendered_notebook(self, *args, **kwargs):
        render_task, rendered_cache, kernel_id = await self._manager.get_rendered_notebook(
            *args, **kwargs
        )
        self._on_kernel(kernel_id)
        return render_task, rendered_cache, kernel_id

    async def start_kernel(self, *args, **kwargs):
        kernel_id = await ensure_async(self._manager.start_kernel(*args, **kwargs))
        self._on_kernel(kernel_id)
        return kernel_id


class DashboardPageHandler(TornadoVoilaHandler):
    """Voilà's page handler, plus the ``_xsrf`` cookie and the visitor ceiling."""

    _ticket: object | None = None

    @property
    def kernel_manager(self):
        manager = self.settings["kernel_manager"]
        gate: VisitorGate | None = self.settings.get(GATE_SETTING)
        if gate is None or self._ticket is None:
            return manager
        ticket = self._ticket
        return _PageKernels(manager, lambda kernel_id: gate.holds(ticket, kernel_id))

    @tornado.web.authenticated
    async def get(self, path=None):
        gate: VisitorGate | None = self.settings.get(GATE_SETTING)
        if path or gate is None:  # a file next to the notebook: Voilà's redirect, no kernel
            return await super().get(path)
        # Voilà's page reads this cookie into its shutdown beacon (see the module docstring)
        self.xsrf_token  # noqa: B018 - accessing it sets the cookie on this response
        refusal = gate.refusal()
        if refusal is not None:
            self.log.warning(
                "dashboard full (%s): %d visitor kernel(s) in use, ceiling %d; told a visitor "
                "to try again",
                refusal,
                gate.in_use(),
                gate.max_kernels,
            )
            retry_after = self.settings.get("bltanalytics_retry_after", 60)
            self.set_status(503)
            self.set_header("Retry-After", str(retry_after))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            places = gate.max_kernels if refusal == "full" else None
            self.finish(full_page(places=places, retry_after=retry_after))
            return None
        self._ticket = gate.admit()
        try:
            async with gate.rendering():
                return await super().get(path)
        finally:
            gate.release(self._ticket)
            self._ticket = None


class DashboardKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, releasing a kernel whose page has gone away.

    When the last websocket connection of a kernel closes and none is open again
    :attr:`release_after` seconds later, the kernel is shut down. Preheated kernels have never
    had a connection, so the pool is left alone. A dashboard kernel holds nothing worth a
    graceful exit, so every shutdown is immediate: its memory is back at once (a graceful one
    stalls for seconds a third of the time, PERFORMANCE_NOTES).
    """

    #: kernels being shut down: no longer anyone's place, though still listed for a moment
    shutting_down = Set()

    async def shutdown_kernel(self, kernel_id, now=False, restart=False):
        if not restart:
            self.shutting_down.add(kernel_id)
        try:
            return await super().shutdown_kernel(kernel_id, now=not restart, restart=restart)
        finally:
            self.shutting_down.discard(kernel_id)

    def live_kernels(self) -> set[str]:
        """Kernels running and not being shut down."""
        return set(self.list_kernel_ids()) - self.shutting_down

    release_after = Float(
        10.0,
        config=True,
        help="Seconds after a kernel's last connection closed before it is shut down "
        "(a reconnecting page keeps it); negative: never.",
    )

    def notify_disconnect(self, kernel_id):
        super().notify_disconnect(kernel_id)
        if self.release_after >= 0 and self._kernel_connections.get(kernel_id) == 0:
            IOLoop.current().call_later(
                self.release_after,
                lambda: asyncio.ensure_future(self._release_if_abandoned(kernel_id)),
            )

    async def _release_if_abandoned(self, kernel_id: str) -> None:
        if kernel_id not in self or self._kernel_connections.get(kernel_id, 0) > 0:
            return
        self.log.info(
            "Releasing kernel %s: its page closed %.0f s ago", kernel_id, self.release_after
        )
        try:
            await ensure_async(self.shutdown_kernel(kernel_id))
        except (KeyError, RuntimeError, tornado.web.HTTPError):
            pass  # shut down meanwhile (the page's beacon, the culler)


class DashboardVoila(Voila):
    """``voila`` with :class:`DashboardPageHandler` and :class:`DashboardKernelManager`."""

    max_kernels = Integer(
        0, config=True, help="Most visitors holding a kernel at once (0: no ceiling)."
    )
    memory_floor_mb = Integer(
        0,
        config=True,
        help="Tell new visitors to wait while less memory than this (MiB) is available (0: off).",
    )
    retry_after = Integer(60, config=True, help="Seconds a visitor past the ceiling is told.")
    max_rendering = Integer(
        os.cpu_count() or 2,
        config=True,
        help="Pages rendered at once; later visitors queue (0: no limit). Default: the CPUs.",
    )

    def initialize(self, argv=None):
        super().initialize(argv)
        self.voila_configuration.multi_kernel_manager_class = DashboardKernelManager

    def init_settings(self):
        settings = super().init_settings()
        manager = self.kernel_manager
        settings[GATE_SETTING] = VisitorGate(
            manager.live_kernels,
            max_kernels=self.max_kernels,
            memory_floor_mb=self.memory_floor_mb,
            max_rendering=self.max_rendering,
        )
        settings["bltanalytics_retry_after"] = self.retry_after
        return settings

    def init_handlers(self):
        return [
            (entry[0], DashboardPageHandler, *entry[2:])
            if entry[1] is TornadoVoilaHandler
            else entry
            for entry in super().init_handlers()
        ]


main = DashboardVoila.launch_instance

if __name__ == "__main__":
    main()

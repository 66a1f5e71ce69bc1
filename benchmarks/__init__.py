"""Benchmarks of bltanalytics: ``python -m benchmarks`` (``make benchmark``).

Not tests: they time the package against reference measurements taken in the same run and
write the figures to ``docs/benchmarks.md``. ``tests/test_benchmarks.py`` runs the quick
mode's functions on a tiny district to show the harness works (it asserts no speed).

Modules: :mod:`benchmarks.harness` (child processes, alternation, medians, the machine),
:mod:`benchmarks.districts` (generated districts, reused), :mod:`benchmarks.metrics_bench`
(1a), :mod:`benchmarks.duckdb_achievement` (the independent SQL), :mod:`benchmarks.reports_bench`
(1b), :mod:`benchmarks.dashboards_bench` (1c), :mod:`benchmarks.render` (the page).
"""

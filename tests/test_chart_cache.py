"""The chart render caches (charts.vega_spec, charts.to_svg) never
change what a chart shows and never carry one chart's data into another."""

from __future__ import annotations

import pandas as pd
import pytest
import vl_convert as vlc

from bltanalytics import reports
from bltanalytics.present import charts, page_charts


def _bars(counts: list[int]) -> dict:
    frame = pd.DataFrame({"format": ["workshop", "coaching", "micro-PD"], "n": counts})
    chart = page_charts.count_bars(
        frame, category="format", value="n", title="Activities", x_title="Completed"
    )
    return charts.themed_spec(chart)


def test_two_schools_same_chart_shape_different_data_render_their_own_figures():
    first, second = _bars([4, 37, 7]), _bars([5, 93, 2])
    svg_first = charts.to_svg(first)
    kept = len(charts._COMPILED)
    svg_second = charts.to_svg(second)
    assert len(charts._COMPILED) == kept  # the same shape: compiled once
    assert svg_first != svg_second
    assert ">37<" in svg_first and ">37<" not in svg_second
    assert ">93<" in svg_second and ">93<" not in svg_first
    # a cached render is the render vl-convert makes from scratch, for both
    assert svg_first == vlc.vegalite_to_svg(first, allowed_base_urls=[])
    assert svg_second == vlc.vegalite_to_svg(second, allowed_base_urls=[])
    # and again, now both come from the caches
    assert charts.to_svg(first) == svg_first
    assert charts.to_svg(second) == svg_second


@pytest.fixture(scope="module")
def report_specs() -> list[dict]:
    """Every chart of two sample schools' reports."""
    metrics = reports.load()
    specs = []
    for school in metrics.schools["school_id"].head(2):
        year = reports.resolve_year(metrics, school, "")
        for build in (reports.achievement, reports.trend, reports.team_cycles):
            specs += _specs(build(metrics, school, year))
        for build in (reports.scorecard, reports.walkthroughs, reports.learning):
            specs += _specs(build(metrics, school, year))
    assert len(specs) >= 10
    return specs


def _specs(section) -> list[dict]:
    found = [section.spec] if section.chart is not None else []
    for part in section.parts:
        found += _specs(part)
    return found


def test_cached_compile_equals_vl_convert_for_every_report_chart(report_specs):
    for spec in report_specs:
        assert charts.vega_spec(spec) == vlc.vegalite_to_vega(spec)
        assert charts.vega_spec(spec) == vlc.vegalite_to_vega(spec)  # from the cache


def test_the_compiled_spec_is_a_new_object_every_time(report_specs):
    spec = report_specs[0]
    a = charts.vega_spec(spec)
    a["data"][0]["values"] = "changed by a caller"
    a["title"] = "changed"
    assert charts.vega_spec(spec) == vlc.vegalite_to_vega(spec)

"""The package theme is applied by the report (charts.themed_spec), whatever theme is active."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from bltanalytics.present import charts


def _chart() -> alt.Chart:
    frame = pd.DataFrame({"group": ["A", "B"], "pct": [40.0, 55.0]})
    return alt.Chart(frame, title="Groups").mark_bar().encode(x="pct:Q", y="group:N", color="group")


@pytest.mark.parametrize("active", ["default", "dark", "none"])
def test_themed_spec_does_not_depend_on_the_active_theme(active):
    with alt.theme.enable(charts.THEME):
        expected = _chart().to_dict(validate=False)
    with alt.theme.enable(active):
        spec = charts.themed_spec(_chart())
        assert alt.theme.active == active  # left as it was
    assert spec == expected
    assert spec["config"]["title"]["fontSize"] == 18
    assert spec["config"]["legend"]["orient"] == "bottom"
    assert spec["config"]["range"]["category"] == charts.PALETTE


def test_the_chart_own_settings_win_over_the_theme():
    chart = _chart().configure_title(fontSize=22)
    with alt.theme.enable("default"):
        spec = charts.themed_spec(chart)
    assert spec["config"]["title"]["fontSize"] == 22
    assert spec["config"]["title"]["anchor"] == "start"  # the rest of the theme still applies


def test_a_kernel_reset_of_the_theme_does_not_change_a_report_section():
    from bltanalytics.reports import Section

    section = Section("Groups", "Two groups.", chart=_chart())
    with alt.theme.enable("default"):  # what a warm kernel's reset restores
        after_reset = Section("Groups", "Two groups.", chart=_chart()).to_html()
    assert section.to_html() == after_reset

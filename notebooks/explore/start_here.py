# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Start here: a district, its quarantine, one school's groups, a chart
#
# For a data lead in JupyterLab (`jupyter lab notebooks/explore/`). Run the cells from the top;
# change `folder` to your own district folder (see `docs/data.md`). Everything shown is an
# aggregate with small groups suppressed (`*`): student-level rows stay inside `district` and
# are never displayed.

# %%
import altair as alt

from bltanalytics import resources
from bltanalytics.present import charts
from bltanalytics.metrics.achievement import ALL_GRADES, ALL_STUDENTS
from bltanalytics.config import Config
from bltanalytics.load import load_district
from bltanalytics.metrics import compute_metrics

# %% [markdown]
# ## 1. Load a district
#
# `load_district` reads, maps and cleans every table; `Config` holds the policy settings
# (`Config(min_n=10)`, or `bltanalytics.config.load_config("policy.yaml")`);
# `compute_metrics` computes every figure the reports and `bltanalytics metrics` use.

# %%
folder = resources.sample_district()  # the bundled synthetic district; or "path/to/district"
config = Config()
district = load_district(folder)
metrics = compute_metrics(district, config)
metrics.schools

# %% [markdown]
# ## 2. The quarantine: input rows not used as they were, and why
#
# Counts by table and reason. The row numbers themselves are in `quarantine.csv` of the metrics
# export (`bltanalytics metrics FOLDER --out DIR`), the data lead's working file.

# %%
(
    district.quarantine.groupby(["table", "action", "reason"], observed=True)
    .size()
    .rename("rows")
    .reset_index()
)

# %% [markdown]
# ## 3. One school's student groups
#
# Percent proficient in the latest spring, all grades together, by student group. `display` is
# what a report shows: `*` for a group too small to publish.

# %%
school_id = "0101"
year = metrics.school_years[-1]
achievement = metrics.achievement
spring = achievement[
    (achievement["school_id"] == school_id)
    & (achievement["school_year"] == year)
    & (achievement["term"] == "Spring")
    & (achievement["grade"] == ALL_GRADES)
]
spring.pivot_table(
    index=["dimension", "group"], columns="subject", values="display", aggfunc="first"
)

# %% [markdown]
# ## 4. A chart of your own, in the package's theme
#
# `charts.use_theme()` gives the charts shown in this notebook the reports' look (fonts, the
# colour-blind-safe palette, legend below). Only published figures are drawn.

# %%
charts.use_theme()
published = achievement[
    (achievement["school_year"] == year)
    & (achievement["term"] == "Spring")
    & (achievement["grade"] == ALL_GRADES)
    & (achievement["group"] == ALL_STUDENTS)
    & ~achievement["suppressed"]
].merge(metrics.schools, on="school_id")
alt.Chart(published, title=f"All Students proficient, spring {year}").mark_bar().encode(
    x=alt.X("pct_proficient:Q", title="Percent proficient", scale=alt.Scale(domain=[0, 100])),
    y=alt.Y("school_name:N", title=None),
    color=alt.Color("subject:N", title="Subject"),
    yOffset="subject:N",
)

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
# # Comparing schools
#
# Every school of a district side by side: proficiency, the rubric, professional learning. All
# figures are aggregates with small groups suppressed (`*`), as in the district summary report.
# Start with `start_here.ipynb` for how a district is loaded.

# %%
import pandas as pd

from bltanalytics import resources
from bltanalytics.config import Config
from bltanalytics.load import load_district
from bltanalytics.metrics import compute_metrics
from bltanalytics.metrics.achievement import ALL_GRADES, ALL_STUDENTS
from bltanalytics.present import page_charts

# %%
folder = resources.sample_district()  # or "path/to/district"
metrics = compute_metrics(load_district(folder), Config())
year = metrics.school_years[-1]
names = metrics.schools.set_index("school_id")["school_name"]

# %% [markdown]
# ## Proficiency of All Students, latest spring, all grades

# %%
spring = metrics.achievement[
    (metrics.achievement["school_year"] == year)
    & (metrics.achievement["term"] == "Spring")
    & (metrics.achievement["grade"] == ALL_GRADES)
    & (metrics.achievement["group"] == ALL_STUDENTS)
]
all_students = spring.assign(school_label=spring["school_id"].map(names))
all_students.pivot_table(index="school_label", columns="subject", values="display", aggfunc="first")

# %%
page_charts.school_subject_bars(
    all_students.assign(plot=all_students["pct_proficient"], label=all_students["display"]),
    title=f"All Students proficient, spring {year}",
    description="Percent proficient of each school in each subject.",
)

# %% [markdown]
# ## Rubric: indicators met, of those with data

# %%
rubric = (
    metrics.rubric_summary[metrics.rubric_summary["school_year"] == year]
    .groupby("school_id")[["n_met", "n_with_data", "n_indicators"]]
    .sum()
)
rubric.assign(
    pct_met_of_judged=(
        100 * rubric["n_met"] / rubric["n_with_data"].where(rubric["n_with_data"] > 0)
    ).round(0),
    no_data=rubric["n_indicators"] - rubric["n_with_data"],
).rename(index=names)

# %% [markdown]
# ## Professional learning: share of instructional staff taking part

# %%
pd.DataFrame(
    {
        "school": metrics.pd["school_id"].map(names),
        "year": metrics.pd["school_year"],
        "participation": (100 * metrics.pd["participation_rate"]).round(0),
        "hours per staff": metrics.pd["hours_per_staff"].round(1),
    }
)[metrics.pd["school_year"] == year]

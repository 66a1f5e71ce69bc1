# ---
# jupyter:
#   jupytext:
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
# # School report for the Building Leadership Team
#
# One school and one school year: who is reaching proficiency, how the teacher teams' cycles
# went, where the school stands on the Culture of Continuous Improvement rubric, and how staff
# took part in professional learning. Each section opens with one sentence that reads the
# figures, then a chart and a table with the same figures.
#
# **Reading the figures.** `*` marks a figure hidden to protect students' privacy: its group is
# smaller than the district publishes (the notes give the size), or it is hidden to protect such a
# group. `≥95%` and `≤5%` mark percentages shown only as a bound, and a
# gap beside them is the range it must lie in (`+34 to +40`). The notes under each section say
# how its figures are worked out.

# %%
from bltanalytics import reports

# %% tags=["parameters"]
school_id: str = "0101"  # school to report on (ids are text: "0101")
school_year: str = ""  # empty: the latest year with data
data_dir: str = ""  # district folder; empty: the bundled sample district
metrics_dir: str = ""  # metrics export to read instead of recomputing (the batch runner passes one)
min_n: int = 10  # smallest student group whose figures are shown (used when computing)

# %%
metrics = reports.load(data_dir, metrics_dir, min_n)
year = reports.resolve_year(metrics, school_id, school_year)

# %% [markdown]
# ## Overview

# %%
reports.overview(metrics, school_id, year)

# %% [markdown]
# ## Achievement by student group

# %%
reports.achievement(metrics, school_id, year)

# %% [markdown]
# ## Mean scale score by student group

# %%
reports.scale_scores(metrics, school_id, year)

# %% [markdown]
# ## Trend across terms and years

# %%
reports.trend(metrics, school_id, year)

# %% [markdown]
# ## Teacher-team five-step cycles

# %%
reports.team_cycles(metrics, school_id, year)

# %% [markdown]
# ## Rubric scorecard

# %%
reports.scorecard(metrics, school_id, year)

# %% [markdown]
# ## Walk-throughs and fidelity

# %%
reports.walkthroughs(metrics, school_id, year)

# %% [markdown]
# ## Professional learning

# %%
reports.learning(metrics, school_id, year)

# %% [markdown]
# ## Data-quality notes

# %%
reports.data_quality(metrics, school_id)

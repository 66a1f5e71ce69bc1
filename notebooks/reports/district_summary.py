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
# # District summary: every school side by side
#
# For evaluators: the rubric status of every school, All Students proficiency and the widest
# gap of each school, and professional-learning participation. Each section opens with one
# sentence that reads the figures, then a chart and a table with the same figures.
#
# **Reading the figures.** `*` marks a figure hidden to protect students' privacy: its group is
# smaller than the district publishes (the notes give the size), or it is hidden to protect such a
# group. `≥95%` and `≤5%` mark percentages shown only as a bound, and a
# gap beside them is the range it must lie in (`+34 to +40`). The notes under each section say
# how its figures are worked out.

# %%
from bltanalytics import reports

# %% tags=["parameters"]
school_year: str = ""  # empty: the latest year with data
data_dir: str = ""  # district folder; empty: the bundled sample district
metrics_dir: str = ""  # metrics export to read instead of recomputing (the batch runner passes one)
min_n: int = 10  # smallest student group whose figures are shown (used when computing)
school_reports: list = []  # schools whose report pages sit beside this one (linked from it)

# %%
metrics = reports.load(data_dir, metrics_dir, min_n)
year = reports.resolve_year(metrics, "", school_year)
pages = reports.school_pages(metrics, school_reports)  # school -> its report page

# %% [markdown]
# ## Schools at a glance

# %%
reports.district_overview(metrics, year, pages)

# %% [markdown]
# ## Rubric status by school

# %%
reports.district_scorecard(metrics, year)

# %% [markdown]
# ## Achievement by school

# %%
reports.district_achievement(metrics, year, pages)

# %% [markdown]
# ## Largest gaps by school

# %%
reports.district_gaps(metrics, year, pages)

# %% [markdown]
# ## Professional-learning participation by school

# %%
reports.district_learning(metrics, year, pages)

# %% [markdown]
# ## Data-quality notes by school

# %%
reports.district_data_quality(metrics, pages)

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

# %%
import os
from pathlib import Path

import bltanalytics
from bltanalytics.dashboards import build_presenter

# %% tags=["parameters"]
# Set by `bltanalytics dashboard` (--data, --mask-names); the bundled sample district otherwise.
data_folder: str = os.environ.get("BLT_DATA") or str(
    Path(bltanalytics.__file__).parents[1] / "data" / "sample"
)  # district folder to show
mask_names: bool = os.environ.get("BLT_MASK_NAMES") == "1"  # School A, B... instead of names

# %%
build_presenter(data_folder, mask_names=mask_names)

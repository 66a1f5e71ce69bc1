"""bltanalytics: evidence for a school Building Leadership Team's continuous-improvement cycle.

The package reads a district's exported tables (see ``docs/data.md``), cleans them by the data
contract, computes disaggregated and privacy-suppressed metrics, and feeds papermill reports and
Voilà dashboards.
"""

__version__ = "0.1.0"

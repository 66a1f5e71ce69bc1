"""Synthetic sample districts (being split into modules by job; see the next commit)."""

from bltanalytics.sample.mess import (
    FILE_FORMATS,
    SCHOOL_YEARS,
    TABLE_NAMES,
    InjectedProblem,
    SampleSummary,
    generate_district,
)

__all__ = [
    "FILE_FORMATS",
    "SCHOOL_YEARS",
    "TABLE_NAMES",
    "InjectedProblem",
    "SampleSummary",
    "generate_district",
]

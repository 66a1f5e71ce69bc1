"""Loading: a district folder in, cleaned tables and the record of every row out.

The one door of the loading room; the rest of the package imports from here, never from the
modules inside. The data flows through them in this order:

* :mod:`~bltanalytics.load.readers`: a CSV/XLSX/Parquet file to an all-text frame;
* :mod:`~bltanalytics.load.mapping`: the district's ``mapping.yaml`` (its names to ours);
* :mod:`~bltanalytics.load.contract` and :mod:`~bltanalytics.load.vocabulary`: the tables,
  columns and canonical values of the data contract, as data;
* :mod:`~bltanalytics.load.normalize`: per-kind value normalizers;
* :mod:`~bltanalytics.load.cleaning`: one table cleaned, every row accounted for, with
  :mod:`~bltanalytics.load.levels` (cut-score placement) and
  :mod:`~bltanalytics.load.quarantine` (the ledger of dropped rows and blanked values);
* :mod:`~bltanalytics.load.schemas`: the declared shapes of the cleaned tables;
* :mod:`~bltanalytics.load.district`: :func:`load_district`, the whole folder;
* :mod:`~bltanalytics.load.validate`: the data-quality report.

Loading imports nothing of the metrics layer (the rated rubric indicator ids it checks ratings
against come from :mod:`~bltanalytics.load.indicators`).

>>> from bltanalytics.load import TABLES, school_year_text
>>> school_year_text("2025-2026"), TABLES["assessments"].key[:2]
('2025-26', ('student_id', 'school_year'))
"""

from bltanalytics.load.cleaning import CODED_COLUMNS, ColumnCodes
from bltanalytics.load.contract import (
    DEMOGRAPHIC_FLAGS,
    DEMOGRAPHICS,
    DIMENSIONS,
    SURVEY_ITEMS,
    TABLES,
)
from bltanalytics.load.district import District, load_district
from bltanalytics.load.indicators import rated_indicator_ids
from bltanalytics.load.mapping import Mapping
from bltanalytics.load.normalize import NOT_REPORTED, school_year_text
from bltanalytics.load.quarantine import QUARANTINE_COLUMNS
from bltanalytics.load.schemas import GRADES, SCHOOL_YEAR_PATTERN, shape_failures
from bltanalytics.load.validate import QualityReport, format_report, quality_report
from bltanalytics.load.vocabulary import canonical_values

__all__ = [
    "GRADES",
    "SCHOOL_YEAR_PATTERN",
    "shape_failures",
    "CODED_COLUMNS",
    "DEMOGRAPHIC_FLAGS",
    "DEMOGRAPHICS",
    "DIMENSIONS",
    "NOT_REPORTED",
    "QUARANTINE_COLUMNS",
    "SURVEY_ITEMS",
    "TABLES",
    "ColumnCodes",
    "District",
    "Mapping",
    "QualityReport",
    "canonical_values",
    "format_report",
    "load_district",
    "quality_report",
    "rated_indicator_ids",
    "school_year_text",
]

"""The presentation layer: from a :class:`~bltanalytics.metrics.Metrics` to what a person sees.

Pure functions from published figures (and the :class:`~bltanalytics.config.Config` they were
computed with) to display-ready frames and words. Reports, the three dashboards and the charts
take their labels, coded values, gap texts and ranks, status words, orders and notes from here;
the wording itself lives in one data file, ``data/labels.yaml``. Nothing here computes a metric
or reads a student row.

- :mod:`.labels`: the words for codes (dimensions, groups, statuses, formats, reasons...).
- :mod:`.codes`: coded (``≥95%``/``≤5%``) values: bar positions, intervals, gaps and ranks.
- :mod:`.groups`: :func:`achievement_view`, the display-ready achievement frame.
- :mod:`.rubric`: indicator values, goals and statuses in words.
- :mod:`.order`: terms, grades, subjects and dimensions in reading order.
- :mod:`.notes`: the notes under a section, written from the Config.
- :mod:`.tables`: long figures as the wide tables a reader sees.
- :mod:`.words`: numbers and lists in words.
"""

from bltanalytics.present.codes import coded, difference, interval, is_coded, plot_values, signed
from bltanalytics.present.groups import (
    NONE_SHOWN,
    achievement_view,
    group_table,
    largest_gaps,
    with_district,
)
from bltanalytics.present.labels import (
    LABELS,
    NOT_REPORTED,
    dimension_labels,
    group_labels,
    group_phrase,
    group_phrases,
    status_words,
)
from bltanalytics.present.notes import (
    coded_note,
    cycles_suppression_note,
    district_note,
    gap_note,
    reason_notes,
    rubric_note,
    suppression_note,
)
from bltanalytics.present.order import (
    DIMENSION_ORDER,
    GRADE_ORDER,
    SUBJECT_ORDER,
    TERM_ORDER,
    categorical,
    ordered,
    rank,
)
from bltanalytics.present.rubric import (
    goal_text,
    indicator_labels,
    indicator_texts,
    met_of_judged,
    rating_words,
    short_value_text,
    value_text,
)
from bltanalytics.present.tables import wide
from bltanalytics.present.words import (
    SUPPRESSED_MARK,
    article,
    fixed,
    join_words,
    lower_first,
    percent,
    plural,
    say,
)

__all__ = [
    "DIMENSION_ORDER",
    "GRADE_ORDER",
    "LABELS",
    "NONE_SHOWN",
    "NOT_REPORTED",
    "SUBJECT_ORDER",
    "SUPPRESSED_MARK",
    "TERM_ORDER",
    "achievement_view",
    "article",
    "categorical",
    "coded",
    "coded_note",
    "cycles_suppression_note",
    "district_note",
    "difference",
    "dimension_labels",
    "fixed",
    "gap_note",
    "goal_text",
    "group_labels",
    "group_phrase",
    "group_phrases",
    "group_table",
    "indicator_labels",
    "met_of_judged",
    "indicator_texts",
    "interval",
    "is_coded",
    "join_words",
    "largest_gaps",
    "lower_first",
    "ordered",
    "percent",
    "plot_values",
    "plural",
    "rank",
    "rating_words",
    "reason_notes",
    "rubric_note",
    "say",
    "short_value_text",
    "signed",
    "status_words",
    "suppression_note",
    "value_text",
    "wide",
    "with_district",
]

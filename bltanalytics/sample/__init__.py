"""Synthetic sample districts: every table of the data contract, made up from a seed.

:func:`generate_district` writes a district folder (DATA_CONTRACT section 1) for demos, tests and
benchmarks. Nothing in it describes a real person: names are drawn at random from short built-in
lists, birth dates are invented, and ids are sequence numbers.

What the data look like:

* schools of every level (elementary K-5, middle 6-8, high 9-12, and one small K-8 "other"
  school of 20-30 students in every 20, the 6th, so that suppression and "insufficient data"
  show), sizes varying around ``students_per_school``;
* two school years (2024-25, 2025-26) of students who move up a grade, leave and arrive;
* assessments in ELA and Math (grades K-10, Fall/Winter/Spring) and Science (grades 5, 8, 10,
  Spring), with achievement gaps by economic disadvantage, English-learner status, special
  education and race/ethnicity, and scores that rise from Fall to Spring; performance levels
  and proficiency are given for some rows and left to be derived from ``cut_scores`` for others;
* staff, BLTs and teacher teams (one school in ten has no BLT; the small school has no teacher
  team), meetings, five-step cycles with pre/post scores, staff surveys, walk-throughs, fidelity
  checks, professional learning and BLT rubric self-ratings.

With ``messy=True`` the folder looks like a real export: variant spellings, Y/N variants, US and
ISO dates, a CSV with a byte-order mark, one in Windows-1252, staff as ``.xlsx``, district column
names that ``mapping.yaml`` translates, and a handful of bad rows of each kind. Every bad row is
listed in :attr:`SampleSummary.problems` (never as a file in the folder, where it would look like
a table).

The package is laid out the way the data flow: :mod:`~bltanalytics.sample.world` draws the
people, schools and teams; :mod:`~bltanalytics.sample.tables` builds the contract tables from
them; :mod:`~bltanalytics.sample.mess` makes them look like a real export and lists what it
planted; :mod:`~bltanalytics.sample.write` writes the folder (:func:`generate_district`).
:mod:`~bltanalytics.sample.arrays` holds the small vectorized helpers they share. Import from
``bltanalytics.sample``: the names below are its one public door.

Everything is vectorized numpy/pyarrow, so 1,000 schools of 1,000 students (about ten million
assessment rows) take well under a minute.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     summary = generate_district(tmp, schools=3, students_per_school=40, seed=7)
...     sorted(summary.files)[:3], summary.rows["schools"]
(['assessments', 'cut_scores', 'cycle_results'], 3)
"""

from bltanalytics.sample.mess import InjectedProblem
from bltanalytics.sample.tables import TABLE_NAMES
from bltanalytics.sample.world import SCHOOL_YEARS
from bltanalytics.sample.write import FILE_FORMATS, SampleSummary, generate_district

__all__ = [
    "FILE_FORMATS",
    "SCHOOL_YEARS",
    "TABLE_NAMES",
    "InjectedProblem",
    "SampleSummary",
    "generate_district",
]

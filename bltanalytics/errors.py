"""The package's errors: one small hierarchy, each message says what, where and what to do."""

from __future__ import annotations


class BltError(Exception):
    """Base class for every error bltanalytics raises on purpose (never a bug)."""


class DistrictFolderError(BltError):
    """A district folder cannot be used: a required table is missing, empty or unreadable."""


class MappingError(BltError):
    """``mapping.yaml`` is malformed."""


class ConfigError(BltError):
    """A configuration file or value is invalid."""

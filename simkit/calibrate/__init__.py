"""History → scenario: loaders, mapping profiles, cleaning, the service review.

``load_history(path, profile)`` reads a ticket export (CSV, Parquet, XES) with a mapping profile
from ``calibration/`` and returns a :class:`History` in the engine's table schemas, with its
data-quality report; :func:`simkit.calibrate.review.review` measures it against a scenario.
"""

from simkit.calibrate.clean import QualityReport, QualityRule
from simkit.calibrate.history import DEFAULT_MAX_BYTES, History, load_history
from simkit.calibrate.profiles import Profile, load_profile, profile_names

__all__ = [
    "DEFAULT_MAX_BYTES",
    "History",
    "Profile",
    "QualityReport",
    "QualityRule",
    "load_history",
    "load_profile",
    "profile_names",
]

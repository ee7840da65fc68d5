"""Verdicts on a proposed target, shared by every analysis (DESIGN.md, "Achievable target").

A target is ``achievable`` at confidence *c* when the lower bound of P(period meets goal) is at
least *c*, ``not achievable`` when its upper bound is below *c*, and ``at risk`` otherwise — the
interval, not the point estimate, decides, so a verdict never claims more than the replications
support.
"""

from __future__ import annotations

import math
from typing import Literal

from simkit.errors import InputError

__all__ = [
    "ACHIEVABLE",
    "AT_RISK",
    "NOT_ACHIEVABLE",
    "Verdict",
    "check_confidence",
    "verdict",
    "verdict_words",
]

ACHIEVABLE = "achievable"
AT_RISK = "at risk"
NOT_ACHIEVABLE = "not achievable"
Verdict = Literal["achievable", "at risk", "not achievable"]


def verdict(p_lo: float | None, p_hi: float | None, confidence: float) -> Verdict:
    """The verdict from the interval ``[p_lo, p_hi]`` of P(period meets goal).

    Without an interval (no full period measured) the verdict is ``at risk``: nothing supports a
    promise either way.
    """
    if p_lo is not None and p_lo >= confidence:
        return "achievable"
    if p_hi is not None and p_hi < confidence:
        return "not achievable"
    return "at risk"


def verdict_words(
    v: Verdict,
    p_mean: float | None,
    confidence: float,
    period: str = "month",
    *,
    periods_measured: bool = False,
) -> str:
    """A sentence for a customer: ``'achievable: met in about 9 months out of 10 (we need 8)'``.
    Without P(period met): no full period was measured, or (``periods_measured``) full periods
    were, but none held a ticket of the target."""
    if p_mean is None:
        if periods_measured:
            return f"{v}: no ticket was measured in any full {period}"
        return f"{v}: no full {period} was measured"
    # halves round up (0.85 is "about 9", as 0.55 is "about 6"): round() goes to the even one
    out_of_ten = math.floor(p_mean * 10 + 0.5)
    need = math.floor(confidence * 10 + 0.5)
    return f"{v}: met in about {out_of_ten} {period}s out of 10 (we need {need})"


def check_confidence(confidence: float) -> None:
    """Refuse a confidence outside (0, 1), with the fix."""
    if not 0.0 < confidence < 1.0:
        raise InputError.single(
            f"confidence must be between 0 and 1, got {confidence!r}",
            "write a share of periods such as 0.8 (80% of periods)",
            path="--confidence",
        )

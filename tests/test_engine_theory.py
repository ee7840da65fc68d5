"""The support engine against queueing theory.

Each check runs one long replication, measures tickets opened inside the horizon (after a
warm-up, with a drain so that every measured ticket is settled) and compares the estimate with
the closed form of :mod:`simkit.analysis.queueing`. The tolerance is the run's own standard error
from batch means (``BATCHES`` consecutive time batches), times ``Z``: with 30 batches a
``t_29`` deviation beyond 4.5 has probability about 1e-4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from simkit.analysis.queueing import (
    cobham_mean_waits,
    erlang_a,
    erlang_c,
    jackson_mean_sojourn,
    mm_c_mean_wait,
    mm_c_wait_cdf,
)
from simkit.distributions import Distribution, Exponential
from simkit.engine.model import (
    Roster,
    ServiceModel,
    ServiceParams,
    SupportModel,
    TeamModel,
    TeamParams,
)
from simkit.engine.support import SupportRecords, simulate_support
from simkit.streams import Streams

BATCHES = 30
Z = 4.5
WARMUP_H = 200.0
DRAIN_H = 200.0


def desk(
    name: str,
    agents: int,
    mean_h: float,
    priorities: Sequence[str],
    routes: Mapping[str, float] | None = None,
    patience: Distribution | None = None,
    preempt: Sequence[str] = (),
) -> TeamModel:
    routes = routes or {"resolved": 1.0}
    params = TeamParams(
        handle={p: Exponential(mean_h) for p in priorities},
        routes=tuple(routes),
        route_probs=np.array(list(routes.values())),
        patience=patience,
        preempt=frozenset(preempt),
    )
    return TeamModel(name, "team", Roster(np.array([0.0]), np.array([agents])), None, (params,))


def flat_model(
    rate: float, shares: Sequence[float], horizon_h: float, *teams: TeamModel
) -> SupportModel:
    """Poisson arrivals at ``rate``/h into the first team, measured over ``horizon_h``."""
    end = WARMUP_H + horizon_h + DRAIN_H
    priorities = tuple(f"P{k + 1}" for k in range(len(shares)))
    service = ServiceModel(
        name="desk",
        entry=teams[0].name,
        hourly_rate=np.full(math.ceil(end), rate),
        customers=("",),
        params=(ServiceParams(np.array(shares, dtype=float), np.array([1.0])),),
    )
    return SupportModel(
        origin=np.datetime64("2027-01-04T00:00", "us"),
        start=WARMUP_H,
        horizon_end=WARMUP_H + horizon_h,
        end=end,
        priorities=priorities,
        teams=teams,
        services=(service,),
        regime_starts=np.array([0.0]),
    )


def _hours(column: pa.ChunkedArray, origin: np.datetime64) -> np.ndarray:
    micros = column.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return (micros - float(origin.astype(np.int64))) / 3.6e9


@dataclass(frozen=True)
class Measured:
    """Per measured ticket: when it opened, its priority rank, its first visit's wait (to start,
    or to abandonment), whether it abandoned, and its time to resolution."""

    opened: np.ndarray
    rank: np.ndarray
    wait: np.ndarray
    abandoned: np.ndarray
    sojourn: np.ndarray


def measure(model: SupportModel, records: SupportRecords) -> Measured:
    t, v = records.tickets, records.visits
    first = v.filter(pa.compute.equal(v["seq"], 0))
    order = np.argsort(first["ticket_id"].to_numpy())
    started = _hours(first["started_at"], model.origin)[order]
    finished = _hours(first["finished_at"], model.origin)[order]
    assigned = _hours(first["assigned_at"], model.origin)[order]
    opened = _hours(t["opened_at"], model.origin)
    abandoned = t["abandoned"].to_numpy(zero_copy_only=False)
    wait = np.where(abandoned, finished, started) - assigned
    sojourn = _hours(t["resolved_at"], model.origin) - opened
    rank = np.array([model.priorities.index(p) for p in t["priority"].to_pylist()])
    inside = (opened >= model.start) & (opened < model.horizon_end)
    assert not np.isnan(wait[inside]).any(), (
        "a measured ticket was never settled: lengthen the drain"
    )
    return Measured(opened[inside], rank[inside], wait[inside], abandoned[inside], sojourn[inside])


def batch_mean(model: SupportModel, opened: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Mean of ``values`` and its standard error from time batches of the measured horizon."""
    edges = np.linspace(model.start, model.horizon_end, BATCHES + 1)
    batch = np.clip(np.searchsorted(edges, opened, side="right") - 1, 0, BATCHES - 1)
    sums = np.bincount(batch, weights=values, minlength=BATCHES)
    counts = np.bincount(batch, minlength=BATCHES)
    assert counts.min() > 50, "batches too small for batch means"
    means = sums / counts
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(BATCHES))


def assert_close(
    model: SupportModel, opened: np.ndarray, values: np.ndarray, theory: float
) -> None:
    estimate, se = batch_mean(model, opened, values)
    assert abs(estimate - theory) <= Z * se, (
        f"estimate {estimate:.4f} ± {se:.4f}, theory {theory:.4f}"
    )


def run(model: SupportModel, seed: int) -> Measured:
    return measure(model, simulate_support(model, Streams(np.random.SeedSequence(seed))))


def check_mmc(c: int, rate: float, horizon_h: float, seed: int) -> None:
    model = flat_model(rate, [1.0], horizon_h, desk("desk", c, 1.0, ["P1"]))
    m = run(model, seed)
    assert_close(model, m.opened, m.wait, mm_c_mean_wait(c, rate, 1.0))
    for t in (0.0, 0.25, 1.0):
        theory = mm_c_wait_cdf(t, c, rate, 1.0)
        assert isinstance(theory, float)
        assert_close(model, m.opened, (m.wait <= t).astype(float), theory)


def test_mmc_wait_matches_erlang_c_quick() -> None:
    """M/M/5 at rho = 0.7: mean wait and P(wait <= t) match Erlang C."""
    check_mmc(5, 3.5, 8_000.0, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("rate", [3.5, 4.5])
def test_mmc_wait_matches_erlang_c_long(rate: float) -> None:
    """M/M/5 at rho = 0.7 and 0.9 over long runs: mean wait and P(wait <= t) match Erlang C."""
    check_mmc(5, rate, 60_000.0, seed=2)


def check_cobham(shares: Sequence[float], horizon_h: float, seed: int) -> None:
    c, rate = 3, 2.4
    model = flat_model(
        rate, shares, horizon_h, desk("desk", c, 1.0, [f"P{k + 1}" for k in range(len(shares))])
    )
    m = run(model, seed)
    theory = cobham_mean_waits(c, [rate * s for s in shares], 1.0)
    for rank, expected in enumerate(theory):
        mine = m.rank == rank
        assert_close(model, m.opened[mine], m.wait[mine], expected)


def test_non_preemptive_priorities_match_cobham_two_classes() -> None:
    """M/M/3 at rho = 0.8 with two non-preemptive classes: each class's mean wait is Cobham's."""
    check_cobham([0.3, 0.7], 12_000.0, seed=3)


@pytest.mark.slow
def test_non_preemptive_priorities_match_cobham_four_classes() -> None:
    """M/M/3 at rho = 0.8 with four non-preemptive classes: each class's mean wait is Cobham's."""
    check_cobham([0.1, 0.2, 0.3, 0.4], 60_000.0, seed=4)


def check_preemptive(horizon_h: float, seed: int) -> None:
    c, rate, share = 3, 2.4, 0.3
    team = desk("desk", c, 1.0, ["P1", "P2"], preempt=["P1"])
    model = flat_model(rate, [share, 1 - share], horizon_h, team)
    m = run(model, seed)
    top = m.rank == 0
    assert_close(model, m.opened[top], m.wait[top], mm_c_mean_wait(c, rate * share, 1.0))
    for t in (0.0, 0.1):
        theory = mm_c_wait_cdf(t, c, rate * share, 1.0)
        assert isinstance(theory, float)
        assert_close(model, m.opened[top], (m.wait[top] <= t).astype(float), theory)
    assert m.wait[~top].mean() > m.wait[top].mean()


def test_preemptive_top_priority_sees_its_own_mmc() -> None:
    """With preemptive P1 on M/M/3, P1's waits are those of an M/M/3 fed by P1 alone."""
    check_preemptive(12_000.0, seed=5)


@pytest.mark.slow
def test_preemptive_top_priority_sees_its_own_mmc_long() -> None:
    """The preemptive check over a long run."""
    check_preemptive(80_000.0, seed=10)


def check_tandem(horizon_h: float, seed: int) -> None:
    rate, escalate = 2.0, 0.4
    model = flat_model(
        rate,
        [1.0],
        horizon_h,
        desk("desk", 3, 1.0, ["P1"], routes={"resolved": 1 - escalate, "resolver": escalate}),
        desk("resolver", 2, 1.0 / 0.6, ["P1"]),
    )
    m = run(model, seed)
    assert not np.isnan(m.sojourn).any()
    theory = jackson_mean_sojourn([rate, 0.0], [[0.0, escalate], [0.0, 0.0]], [3, 2], [1.0, 0.6])
    assert_close(model, m.opened, m.sojourn, theory)


def test_tandem_network_sojourn_matches_jackson() -> None:
    """Desk -> resolver with Bernoulli escalation: mean time to resolution is Jackson's."""
    check_tandem(12_000.0, seed=6)


@pytest.mark.slow
def test_tandem_network_sojourn_matches_jackson_long() -> None:
    """The tandem check over a long run."""
    check_tandem(80_000.0, seed=7)


def check_erlang_a(horizon_h: float, seed: int) -> None:
    c, rate, patience_h = 3, 3.0, 2.0
    model = flat_model(
        rate, [1.0], horizon_h, desk("desk", c, 1.0, ["P1"], patience=Exponential(patience_h))
    )
    m = run(model, seed)
    theory = erlang_a(c, rate, 1.0, 1.0 / patience_h)
    assert_close(model, m.opened, m.abandoned.astype(float), theory.p_abandon)
    assert_close(model, m.opened, m.wait, theory.mean_wait)
    assert_close(model, m.opened, (m.wait > 0).astype(float), theory.p_wait)


def test_abandonment_matches_erlang_a() -> None:
    """M/M/3+M at offered load 3 erlangs: abandonment share and mean wait are Erlang A's."""
    check_erlang_a(12_000.0, seed=8)


@pytest.mark.slow
def test_abandonment_matches_erlang_a_long() -> None:
    """The Erlang A check over a long run."""
    check_erlang_a(80_000.0, seed=9)


def test_queueing_formulas_agree_with_known_cases() -> None:
    """The closed forms reduce to the textbook special cases."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mm_c_mean_wait(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)
    assert mm_c_wait_cdf(0.0, 1, 0.7, 1.0) == pytest.approx(0.3)
    assert cobham_mean_waits(4, [3.0], 1.0) == pytest.approx([mm_c_mean_wait(4, 3.0, 1.0)])
    w1, w2 = cobham_mean_waits(1, [0.3, 0.4], 1.0)
    assert (w1, w2) == (pytest.approx(0.7 / 0.7), pytest.approx(0.7 / (0.7 * 0.3)))
    assert 0.3 * w1 + 0.4 * w2 == pytest.approx(0.7 * mm_c_mean_wait(1, 0.7, 1.0))
    tandem = jackson_mean_sojourn([1.0, 0.0], [[0.0, 0.5], [0.0, 0.0]], [1, 1], [2.0, 1.0])
    assert tandem == pytest.approx(1.0 + 0.5 * 2.0)
    poisson = erlang_a(1, 1.0, 1.0, 1.0)
    assert poisson.p_wait == pytest.approx(1 - math.exp(-1))
    assert poisson.p_abandon == pytest.approx(math.exp(-1))
    patient = erlang_a(10, 9.0, 1.0, 1e-9)
    assert patient.mean_wait == pytest.approx(mm_c_mean_wait(10, 9.0, 1.0), rel=1e-6)
    assert patient.p_wait == pytest.approx(erlang_c(10, 9.0), rel=1e-6)
    with pytest.raises(ValueError, match="unstable"):
        mm_c_mean_wait(2, 2.0, 1.0)

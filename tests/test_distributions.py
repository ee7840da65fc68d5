"""Distribution specs: sampling against theory, moment parametrisation, parsing, fitting.

Statistical checks compare with theory within a number of standard errors derived from the sample
size and the theoretical moments; seeds are fixed only so that runs repeat.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

from simkit.distributions import (
    FAMILIES,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Uniform,
    Weibull,
    fit,
    from_spec,
)
from simkit.errors import SpecError
from simkit.units import format_duration, parse_duration

DRAWS = 200_000
Z = 5.0  # standard errors allowed in statistical comparisons

EMPIRICAL_HOURS = [0.1, 0.25, 0.25, 0.5, 1.0, 2.0, 8.0]


def _theory(spec: dict[str, Any]) -> tuple[float, float, float]:
    """Mean, variance and 4th central moment worked out here from the textbook parameters."""
    ((family, p),) = spec.items()
    if family == "exponential":
        m = p["mean"]
        return m, m**2, 9 * m**4
    if family == "lognormal":
        if "cv" in p:
            sigma = math.sqrt(math.log1p(p["cv"] ** 2))
            mu = math.log(p["mean"]) - sigma**2 / 2
        else:
            mu, sigma = p["mu"], p["sigma"]
        frozen = stats.lognorm(sigma, scale=math.exp(mu))
    elif family == "gamma":
        shape, scale = (
            (1 / p["cv"] ** 2, p["mean"] * p["cv"] ** 2) if "cv" in p else (p["shape"], p["scale"])
        )
        frozen = stats.gamma(shape, scale=scale)
    elif family == "weibull":
        k = p["shape"]
        scale = p["scale"] if "scale" in p else p["mean"] / special.gamma(1 + 1 / k)
        frozen = stats.weibull_min(k, scale=scale)
    elif family == "uniform":
        frozen = stats.uniform(p["low"], p["high"] - p["low"])
    elif family == "fixed":
        return p["value"], 0.0, 0.0
    else:
        values = np.asarray(p["values"], dtype=float)
        centred = values - values.mean()
        return float(values.mean()), float(np.mean(centred**2)), float(np.mean(centred**4))
    mean, var, _, kurtosis = (float(v) for v in frozen.stats(moments="mvsk"))
    return mean, var, (kurtosis + 3) * var**2


# Specs in hours (plain numbers) so that the theory above reads them directly.
CASES: list[dict[str, Any]] = [
    {"exponential": {"mean": 0.75}},
    {"lognormal": {"mean": 25 / 60, "cv": 1.2}},
    {"lognormal": {"mu": 0.5, "sigma": 0.6}},
    {"gamma": {"mean": 3.0, "cv": 0.5}},
    {"gamma": {"shape": 0.7, "scale": 2.0}},
    {"weibull": {"shape": 0.8, "mean": 2000.0}},
    {"weibull": {"shape": 2.0, "scale": 3.0}},
    {"fixed": {"value": 0.25}},
    {"uniform": {"low": 1 / 6, "high": 1.0}},
    {"empirical": {"values": EMPIRICAL_HOURS}},
]
CASE_IDS = [f"{next(iter(c))}-{'-'.join(next(iter(c.values())))}" for c in CASES]


@pytest.mark.parametrize("spec", CASES, ids=CASE_IDS)
def test_sample_moments_match_theory(spec: dict[str, Any]) -> None:
    """Sample mean and variance of 200k draws lie within 5 standard errors of the theory."""
    dist = from_spec(spec)
    mean, var, mu4 = _theory(spec)
    draws = dist.sample(np.random.default_rng(20270104), DRAWS)
    assert draws.shape == (DRAWS,) and draws.dtype == np.float64
    assert np.all(draws >= 0)
    assert dist.mean == pytest.approx(mean, rel=1e-9)
    assert dist.var == pytest.approx(var, rel=1e-9, abs=1e-12)
    if var == 0:
        assert np.all(draws == mean)
        return
    assert abs(draws.mean() - mean) < Z * math.sqrt(var / DRAWS)
    assert abs(draws.var(ddof=1) - var) < Z * math.sqrt((mu4 - var**2) / DRAWS)


@pytest.mark.parametrize("family", ["lognormal", "gamma"])
@pytest.mark.parametrize(("mean", "cv"), [("25m", 1.2), ("3h", 0.5), ("2d", 3.0)])
def test_moment_parametrisation_gives_requested_mean_and_cv(
    family: str, mean: str, cv: float
) -> None:
    """{mean, cv} yields exactly that mean and cv, also as scipy computes them."""
    dist = from_spec({family: {"mean": mean, "cv": cv}})
    hours = {"25m": 25 / 60, "3h": 3.0, "2d": 48.0}[mean]
    expected_mean, expected_var, _ = _theory({family: {"mean": hours, "cv": cv}})
    assert dist.mean == pytest.approx(hours, rel=1e-12)
    assert dist.cv == pytest.approx(cv, rel=1e-12)
    assert expected_mean == pytest.approx(hours, rel=1e-9)
    assert math.sqrt(expected_var) / expected_mean == pytest.approx(cv, rel=1e-9)


def test_weibull_mean_parametrisation_gives_requested_mean() -> None:
    """{shape, mean} and {shape, scale} describe the same Weibull when scale = mean / Γ(1+1/k)."""
    by_mean = from_spec({"weibull": {"shape": 0.8, "mean": "2000h"}})
    assert isinstance(by_mean, Weibull)
    assert by_mean.mean == pytest.approx(2000.0)
    by_scale = from_spec({"weibull": {"shape": 0.8, "scale": by_mean.scale_h}})
    assert by_scale.mean == pytest.approx(2000.0, rel=1e-12)
    assert stats.weibull_min(0.8, scale=by_mean.scale_h).mean() == pytest.approx(2000.0)


@pytest.mark.parametrize("spec", CASES, ids=CASE_IDS)
def test_cdf_matches_sampled_frequencies_and_quantile_inverts_it(spec: dict[str, Any]) -> None:
    """P(X <= x) from cdf() agrees with the sample share within 5 binomial standard errors."""
    dist = from_spec(spec)
    draws = dist.sample(np.random.default_rng(11), DRAWS)
    q = np.array([0.1, 0.5, 0.9])
    x = dist.quantile(q)
    p = dist.cdf(x)
    share = (draws[:, None] <= x[None, :]).mean(axis=0)
    se = np.sqrt(np.maximum(p * (1 - p), 1 / DRAWS) / DRAWS)
    assert np.all(np.abs(share - p) < Z * se)
    assert np.all(p >= q - 1e-9)  # the quantile is the smallest x with F(x) >= q
    if spec.keys() - {"fixed", "empirical"}:
        np.testing.assert_allclose(p, q, rtol=1e-9)


def test_quantile_refuses_probabilities_outside_0_1() -> None:
    """quantile(1.5) is a SpecError naming the range."""
    with pytest.raises(SpecError, match="between 0 and 1"):
        Exponential(1.0).quantile(1.5)


@pytest.mark.parametrize("spec", CASES, ids=CASE_IDS)
def test_same_seed_gives_same_sample(spec: dict[str, Any]) -> None:
    """Two generators with the same seed give identical draws; another seed different ones."""
    dist = from_spec(spec)
    first = dist.sample(np.random.default_rng(42), 1000)
    np.testing.assert_array_equal(first, dist.sample(np.random.default_rng(42), 1000))
    if dist.var > 0:
        assert not np.array_equal(first, dist.sample(np.random.default_rng(43), 1000))


@pytest.mark.parametrize("spec", CASES, ids=CASE_IDS)
def test_scaled_multiplies_every_draw(spec: dict[str, Any]) -> None:
    """scaled(f) keeps the family, multiplies each draw (same stream) by f, mean by f, var by f²."""
    dist = from_spec(spec)
    bigger = dist.scaled(1.1)
    assert bigger.family == dist.family
    np.testing.assert_allclose(
        bigger.sample(np.random.default_rng(5), 500),
        1.1 * dist.sample(np.random.default_rng(5), 500),
        rtol=1e-12,
    )
    assert bigger.mean == pytest.approx(1.1 * dist.mean, rel=1e-12)
    assert bigger.var == pytest.approx(1.21 * dist.var, rel=1e-12, abs=1e-15)
    if dist.var > 0:
        assert bigger.cv == pytest.approx(dist.cv, rel=1e-12)


@pytest.mark.parametrize("factor", [0, -1.0, float("nan"), float("inf")])
def test_scaled_refuses_non_positive_factor(factor: float) -> None:
    """A factor of zero, below zero or not finite is a SpecError."""
    with pytest.raises(SpecError, match="scale factor"):
        Exponential(1.0).scaled(factor)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"exponential": {"mean": "40m"}}, Exponential(40 / 60)),
        ({"exponential": {"mean": "1d"}}, Exponential(24.0)),
        ({"exponential": {"mean": 3}}, Exponential(3.0)),
        ({"exponential": {"mean": "2w"}}, Exponential(336.0)),
        ({"lognormal": {"mean": "25m", "cv": 1.2}}, Lognormal(25 / 60, 1.2)),
        ({"lognormal": {"mean": "1.5h", "cv": "0.5"}}, Lognormal(1.5, 0.5)),
        ({"gamma": {"mean": "3h", "cv": 1}}, Gamma(3.0, 1.0)),
        ({"gamma": {"shape": 4, "scale": "30m"}}, Gamma(2.0, 0.5)),
        ({"weibull": {"shape": 1, "scale": "90m"}}, Weibull(1.0, 1.5)),
        ({"fixed": {"value": "15m"}}, Fixed(0.25)),
        ({"uniform": {"low": "10m", "high": "1h"}}, Uniform(1 / 6, 1.0)),
        ({"uniform": {"low": 0, "high": "3d"}}, Uniform(0.0, 72.0)),
        ({"empirical": {"values": ["30m", 2, "1d"]}}, Empirical((0.5, 2.0, 24.0))),
    ],
)
def test_spec_parsing_reads_time_units(spec: dict[str, Any], expected: Distribution) -> None:
    """Times take s/m/h/d/w units (a day is 24 h) and bare numbers are hours."""
    parsed = from_spec(spec)
    assert type(parsed) is type(expected)
    assert parsed.mean == pytest.approx(expected.mean, rel=1e-12)
    assert parsed.var == pytest.approx(expected.var, rel=1e-12)


def test_lognormal_mu_sigma_are_of_log_hours() -> None:
    """{mu, sigma} are the mean and sd of log-hours: the median is exp(mu) hours."""
    dist = from_spec({"lognormal": {"mu": 0.0, "sigma": 1.0}})
    assert isinstance(dist, Lognormal)
    assert dist.mu == pytest.approx(0.0, abs=1e-12)
    assert dist.sigma == pytest.approx(1.0, rel=1e-12)
    assert float(dist.quantile(0.5)) == pytest.approx(1.0, rel=1e-9)
    assert dist.mean == pytest.approx(math.exp(0.5), rel=1e-12)


def _error(spec: Any, **kwargs: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        from_spec(spec, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("spec", "message", "fix"),
    [
        ("lognormal", "must be a mapping with one family", "families: exponential"),
        ([1, 2], "must be a mapping with one family", "lognormal"),
        ({}, "got no family", "exponential, lognormal"),
        (
            {"lognormal": {"mean": "25m", "cv": 1}, "gamma": {"mean": "3h", "cv": 1}},
            "2 families (lognormal, gamma)",
            "keep one",
        ),
        ({"mean": "25m", "cv": 1.2}, "'mean', 'cv' are parameters, not a family", "lognormal"),
        (
            {"lognorm": {"mean": "25m", "cv": 1}},
            "did you mean 'lognormal'",
            "exponential, lognormal",
        ),
        ({"weibul": {"shape": 1, "mean": 1}}, "did you mean 'weibull'", "gamma, weibull"),
        ({"poisson": {"mean": 1}}, "unknown distribution family 'poisson'", "empirical"),
        ({"gamma": "3h"}, "gamma parameters must be a mapping", "{mean, cv} or {shape, scale}"),
        ({"lognormal": {"mean": "25m"}}, "lognormal is missing cv", "{mean, cv} or {mu, sigma}"),
        ({"weibull": {"shape": 2}}, "weibull is missing scale or mean", "{shape, scale}"),
        ({"lognormal": {"mean": "25m", "sigma": 1}}, "cannot combine mean, sigma", "{mu, sigma}"),
        (
            {"lognormal": {"mena": "25m", "cv": 1}},
            "no parameter 'mena' (did you mean 'mean'?)",
            "cv",
        ),
        ({"exponential": {"rate": 2}}, "exponential has no parameter 'rate'", "{mean}"),
        ({"exponential": {"mean": "0m"}}, "exponential mean must be greater than zero", "time"),
        ({"exponential": {"mean": -2}}, "exponential mean must be greater than zero, got -2", ""),
        ({"gamma": {"mean": "-5m", "cv": 1}}, "gamma mean must be greater than zero", ""),
        ({"exponential": {"mean": "40 minutes"}}, "exponential mean: unknown time unit", "use s"),
        (
            {"lognormal": {"mean": "25m", "cv": 0}},
            "lognormal cv must be greater than zero",
            "fixed",
        ),
        ({"gamma": {"mean": "1h", "cv": -0.5}}, "gamma cv must be greater than zero", "standard"),
        ({"lognormal": {"mean": "25m", "cv": "1h"}}, "cv must be a number (a plain number", ""),
        ({"lognormal": {"mu": 0, "sigma": 0}}, "lognormal sigma must be greater than zero", ""),
        ({"weibull": {"shape": 0, "mean": "1h"}}, "weibull shape must be greater than zero", ""),
        ({"gamma": {"shape": 2, "scale": "0h"}}, "gamma scale must be greater than zero", ""),
        ({"fixed": {"value": 0}}, "fixed value must be greater than zero", ""),
        (
            {"uniform": {"low": "2h", "high": "1h"}},
            "uniform low ('2h') is above high ('1h')",
            "swap",
        ),
        ({"uniform": {"low": "1h", "high": "60m"}}, "low and high are both 1h", "fixed"),
        ({"uniform": {"low": "-1h", "high": "1h"}}, "uniform low cannot be negative", ""),
        ({"empirical": {"values": []}}, "empirical values is empty", "at least one"),
        ({"empirical": {"values": "25m"}}, "values must be a list of durations", ""),
        ({"empirical": {"values": ["1h", "soon"]}}, "empirical values[1]", ""),
        ({"empirical": {"values": [0, 0]}}, "all zero", ""),
        ({"empirical": {"values": ["1h"], "file": "x.csv"}}, "cannot combine file, values", ""),
    ],
)
def test_malformed_specs_name_the_problem(spec: Any, message: str, fix: str) -> None:
    """Each malformed spec raises a SpecError whose message and fix say what is wrong and how."""
    error = _error(spec)
    assert message in error.message
    assert fix in error.fix
    assert error.fix  # every error comes with a fix


@pytest.mark.parametrize(
    "spec",
    [
        {"exponential": {"mean": "40m"}},
        {"lognormal": {"mean": "25m", "cv": 1.2}},
        {"gamma": {"mean": "3h", "cv": 1.0}},
        {"weibull": {"shape": 0.8, "mean": "2000h"}},
        {"fixed": {"value": "15m"}},
        {"uniform": {"low": "10m", "high": "1h"}},
        {"empirical": {"values": ["10m", "25m", "2h"]}},
    ],
)
def test_to_spec_writes_the_moment_form_back(spec: dict[str, Any]) -> None:
    """A moment-form spec with readable times comes back verbatim and parses to an equal value."""
    dist = from_spec(spec)
    assert dist.to_spec() == spec
    assert from_spec(dist.to_spec()) == dist
    json.dumps(dist.to_spec())  # plain data, no numpy scalars


@pytest.mark.parametrize(
    "dist",
    [
        Lognormal.from_log(0.123456789, 0.987654321),
        Gamma.from_shape_scale(2.345678, 1.23456789),
        Weibull.from_shape_scale(1.2345, 7.654321),
        Exponential(0.123456789),
        Uniform(0.0123456, 3.456789),
    ],
)
def test_to_spec_round_trips_any_parameters_up_to_the_written_times(dist: Distribution) -> None:
    """Fitted or natural-form parameters come back as the same family; plain numbers (cv, shape)
    are exact and each time is exactly what format_duration wrote."""
    again = from_spec(json.loads(json.dumps(dist.to_spec())))
    assert type(again) is type(dist)
    written = parse_duration(format_duration(dist.mean))
    if isinstance(dist, Uniform):
        assert isinstance(again, Uniform)
        assert again.low_h == parse_duration(format_duration(dist.low_h))
        assert again.high_h == parse_duration(format_duration(dist.high_h))
        return
    assert again.mean == pytest.approx(written, rel=1e-12)
    assert again.mean == pytest.approx(dist.mean, rel=1e-3)
    assert again.cv == pytest.approx(dist.cv, rel=1e-12)


def test_describe_is_short_and_readable() -> None:
    """describe() names the family and its parameters with readable times."""
    assert from_spec({"lognormal": {"mean": "25m", "cv": 1.2}}).describe() == (
        "lognormal, mean 25m, cv 1.2"
    )
    assert Exponential(40 / 60).describe() == "exponential, mean 40m"
    assert Weibull(0.8, 2000.0).describe() == "weibull, shape 0.8, mean 2000h"
    assert Gamma(0.41234567, 1 / 3).describe() == "gamma, mean 24.7m, cv 0.333"
    assert Fixed(0.25).describe() == "fixed 15m"
    assert Uniform(1 / 6, 1.0).describe() == "uniform, 10m to 1h"
    assert Empirical((0.5, 1.5)).describe() == "empirical, 2 values, mean 1h"


def test_distributions_pickle_and_hash_by_value() -> None:
    """Frozen values: equal parameters compare and hash equal and survive pickling."""
    for spec in CASES:
        dist = from_spec(spec)
        assert pickle.loads(pickle.dumps(dist)) == dist
        assert hash(from_spec(spec)) == hash(dist)
    with pytest.raises(AttributeError):
        Exponential(1.0).mean_h = 2.0  # type: ignore[misc]


def test_families_lists_every_family() -> None:
    """FAMILIES is the set of names from_spec accepts."""
    assert set(FAMILIES) == {
        "exponential",
        "lognormal",
        "gamma",
        "weibull",
        "fixed",
        "uniform",
        "empirical",
    }


# ------------------------------------------------------------------------------------- empirical


def test_empirical_resamples_the_values_with_equal_weight() -> None:
    """Draws are the listed values, each with frequency 1/n within 5 binomial standard errors."""
    dist = from_spec({"empirical": {"values": ["10m", "20m", "20m", "1h"]}})
    draws = dist.sample(np.random.default_rng(3), DRAWS)
    hours = np.array([1 / 6, 1 / 3, 1.0])
    assert np.all(np.isclose(draws[:, None], hours[None, :]).any(axis=1))
    share = np.isclose(draws[:, None], hours[None, :]).mean(axis=0)
    expected = np.array([0.25, 0.5, 0.25])
    assert np.all(np.abs(share - expected) < Z * np.sqrt(expected * (1 - expected) / DRAWS))
    np.testing.assert_allclose(dist.cdf([0.1, 1 / 6, 0.5, 2.0]), [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(dist.quantile([0.25, 0.5, 1.0]), [1 / 6, 1 / 3, 1.0])


def test_empirical_file_with_header_and_units(tmp_path: Path) -> None:
    """A one-column CSV with a header and duration strings resolves relative to base_dir."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "handling.csv").write_text(
        'handle_time\n30m\n\n2h\n"1d"\n1.5\n', encoding="utf-8"
    )
    dist = from_spec({"empirical": {"file": "data/handling.csv"}}, base_dir=tmp_path)
    assert isinstance(dist, Empirical)
    assert dist.values_h == (0.5, 2.0, 24.0, 1.5)
    assert dist.to_spec() == {"empirical": {"file": "data/handling.csv"}}
    assert from_spec(dist.to_spec(), base_dir=tmp_path) == dist
    assert dist == Empirical((0.5, 2.0, 24.0, 1.5))
    assert "from data/handling.csv" in dist.describe()
    assert dist.scaled(2.0).to_spec() == {"empirical": {"values": ["1h", "4h", "2d", "3h"]}}


def test_empirical_file_of_plain_hours_without_header(tmp_path: Path) -> None:
    """A column of numbers (hours, Windows line ends, byte-order mark) is read in bulk."""
    path = tmp_path / "hours.csv"
    values = np.random.default_rng(8).exponential(2.0, 10_000)
    path.write_text("\ufeff" + "\r\n".join(f"{v:.17g}" for v in values), encoding="utf-8")
    dist = from_spec({"empirical": {"file": str(path)}})
    assert isinstance(dist, Empirical)
    np.testing.assert_array_equal(np.array(dist.values_h), values)


def test_empirical_file_refused_when_files_are_not_allowed(tmp_path: Path) -> None:
    """With allow_files=False (an upload) a file is refused before it is touched."""
    (tmp_path / "handling.csv").write_text("1\n2\n", encoding="utf-8")
    error = _error({"empirical": {"file": "handling.csv"}}, base_dir=tmp_path, allow_files=False)
    assert "may not name files" in error.message
    assert "values" in error.fix
    assert from_spec({"empirical": {"values": [1, 2]}}, allow_files=False).mean == 1.5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("", "holds no durations"),
        ("hours\n", "holds no durations"),
        ("1h\n2h\nlater\n", "line 3"),
        ("1h\n-2\n", "line 2"),
        ("1,2\n3,4\n", "more than one column"),
    ],
)
def test_empirical_file_problems_name_the_file_and_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    """A missing, empty or malformed file is a SpecError naming the file and the line."""
    if content is not None:
        (tmp_path / "bad.csv").write_text(content, encoding="utf-8")
    error = _error({"empirical": {"file": "bad.csv"}}, base_dir=tmp_path)
    assert "'bad.csv'" in error.message
    assert message in error.message


def test_empirical_file_unreadable_is_a_spec_error(tmp_path: Path) -> None:
    """A directory or undecodable bytes in place of the file is a SpecError, not an OSError."""
    (tmp_path / "dir.csv").mkdir()
    assert "cannot be read" in _error({"empirical": {"file": "dir.csv"}}, base_dir=tmp_path).message
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81")
    assert (
        "cannot be read" in _error({"empirical": {"file": "binary.csv"}}, base_dir=tmp_path).message
    )


# --------------------------------------------------------------------------------------- fitting

FIT_N = 5_000


def test_fit_recovers_lognormal_parameters() -> None:
    """MLE of mu and sigma lies within 5 asymptotic standard errors (σ/√n, σ/√(2n))."""
    mu, sigma = 0.3, 0.8
    data = np.random.default_rng(101).lognormal(mu, sigma, FIT_N)
    result = fit(data, families=("lognormal",))
    best = result.best
    assert isinstance(best, Lognormal)
    assert abs(best.mu - mu) < Z * sigma / math.sqrt(FIT_N)
    assert abs(best.sigma - sigma) < Z * sigma / math.sqrt(2 * FIT_N)


def test_fit_recovers_gamma_parameters() -> None:
    """MLE of shape k and scale θ lies within 5 standard errors from the Fisher information."""
    k, theta = 2.5, 0.8
    data = np.random.default_rng(102).gamma(k, theta, FIT_N)
    best = fit(data, families=("gamma",)).best
    assert isinstance(best, Gamma)
    det = k * special.polygamma(1, k) - 1
    assert abs(best.shape - k) < Z * math.sqrt(k / (det * FIT_N))
    trigamma = special.polygamma(1, k)
    assert abs(best.scale_h - theta) < Z * math.sqrt(trigamma * theta**2 / (det * FIT_N))


def test_fit_recovers_weibull_parameters() -> None:
    """MLE of shape k (var 6k²/π²n) and scale λ (var 1.109λ²/k²n) lies within 5 standard errors."""
    k, scale = 1.5, 2.0
    data = scale * np.random.default_rng(103).weibull(k, FIT_N)
    best = fit(data, families=("weibull",)).best
    assert isinstance(best, Weibull)
    assert abs(best.shape - k) < Z * math.sqrt(6 * k**2 / (math.pi**2 * FIT_N))
    assert abs(best.scale_h - scale) < Z * math.sqrt(1.109 * scale**2 / (k**2 * FIT_N))


@pytest.mark.parametrize(
    "truth",
    [Lognormal(2.0, 2.0), Gamma.from_shape_scale(0.5, 4.0), Weibull(3.0, 2.0)],
    ids=["lognormal-cv2", "gamma-shape0.5", "weibull-shape3"],
)
def test_fit_picks_the_true_family_by_aic(truth: Distribution) -> None:
    """On clearly different shapes the lowest AIC belongs to the family that made the data."""
    data = truth.sample(np.random.default_rng(104), FIT_N)
    result = fit(data)
    assert result.best.family == truth.family
    aics = [c.aic for c in result.candidates]
    assert aics == sorted(aics)
    assert {c.family for c in result.candidates} == {"exponential", "lognormal", "gamma", "weibull"}
    assert result.best is result.candidates[0].distribution
    assert result.candidates[0].ks_pvalue > 1e-3


def test_fit_on_exponential_data_keeps_exponential_close_to_the_best_aic() -> None:
    """Gamma and Weibull nest the exponential: its AIC exceeds the best by a χ²₁ draw − 2 < 18."""
    data = np.random.default_rng(105).exponential(3.0, FIT_N)
    result = fit(data)
    by_family = {c.family: c for c in result.candidates}
    assert by_family["exponential"].aic - result.candidates[0].aic < 18
    assert abs(by_family["exponential"].distribution.mean - 3.0) < Z * 3.0 / math.sqrt(FIT_N)


MINUTE = 1 / 60  # hours


def _minute_readings(truth: Distribution, n: int, seed: int) -> np.ndarray:
    """Durations read off a clock that stamps whole minutes: start and end each floored."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, 1000.0, n)
    end = start + truth.sample(rng, n)
    return np.asarray((np.floor(end / MINUTE) - np.floor(start / MINUTE)) * MINUTE)


SHORT = [Exponential(3 * MINUTE), Gamma(5 * MINUTE, 0.8), Lognormal(4 * MINUTE, 1.2)]
SHORT.append(Weibull(1.5, 4 * MINUTE))


@pytest.mark.parametrize("truth", SHORT, ids=lambda d: d.family)
def test_a_reading_s_probability_is_the_triangle_weighted_integral(truth: Distribution) -> None:
    """P(D = d) = ∫ f(t)(1 − |t − d|/r) dt, from the expected excess Q; checked by quadrature."""
    from scipy import integrate

    from simkit.fitting_rounded import _log_reading, _params

    density = _scipy_equivalent(truth).pdf
    for steps in (0, 1, 3, 10, 40):
        d = steps * MINUTE
        expected, _ = integrate.quad(
            lambda t, d=d: density(t) * (1 - abs(t - d) / MINUTE),
            max(0.0, d - MINUTE),
            d + MINUTE,
            points=[d],
            epsabs=1e-13,
        )
        got = math.exp(_log_reading(_params(truth), np.array([d]), MINUTE)[0])
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_minute_readings_follow_the_reading_distribution() -> None:
    """Readings of 0, 1, … 12 minutes of a 5-minute gamma occur as often as P(D = d) says (each
    count within 5 binomial standard errors), and ``reading_cdf`` adds those probabilities up."""
    from simkit.fitting_rounded import reading_cdf

    truth, n = Gamma(5 * MINUTE, 0.8), 40_000
    readings = np.rint(_minute_readings(truth, n, 108) / MINUTE)
    cdf = reading_cdf(truth, np.arange(-1, 13) * MINUTE, MINUTE)
    for steps in range(13):
        p = cdf[steps + 1] - cdf[steps]
        assert abs((readings == steps).sum() - n * p) < Z * math.sqrt(n * p * (1 - p))
    assert cdf[0] == pytest.approx(0.0, abs=1e-12)


def test_minute_readings_of_short_handling_are_fitted_as_readings() -> None:
    """A 3-minute exponential read from minute stamps: read as exact, lognormal wins and its 99th
    percentile comes out about a quarter too long. Read as minute readings, the best family's
    99th percentile lies within 4 standard errors (√2/√n for a two-parameter family) of the
    truth's."""
    truth, n = Exponential(3 * MINUTE), 4_000
    readings = _minute_readings(truth, n, 109)
    assert (readings == 0).any()  # both stamps in one minute: allowed with a resolution
    result = fit(readings, resolution=MINUTE)
    p99 = float(result.best.quantile(0.99)) / float(truth.quantile(0.99))
    assert abs(p99 - 1) < 4 * math.sqrt(2 / n)
    assert result.candidates[0].ks_pvalue > 1e-3  # against the distribution of readings
    with pytest.raises(SpecError, match="zero"):
        fit(readings)  # without a resolution a zero is no duration
    with pytest.raises(SpecError, match="step"):
        fit(readings, resolution=0.0)


def test_a_resolution_far_below_the_durations_changes_nothing() -> None:
    """Two-hour lognormal durations stamped in minutes: under 1% of them last under 10 minutes
    and their spread is hours, so they are fitted as exact values — and fitted as readings the
    mean moves by under a tenth of its standard error and the cv by under a tenth of its own."""
    from simkit.fitting import rounding_matters
    from simkit.fitting_rounded import fit_rounded

    readings = _minute_readings(Lognormal(2.0, 1.0), FIT_N, 110)
    assert not rounding_matters(readings, MINUTE)
    exact = fit(readings).best
    assert fit(readings, resolution=MINUTE).best == exact
    as_readings, _ = fit_rounded(exact, readings, np.array([]), MINUTE)
    assert abs(as_readings.mean - exact.mean) < 0.1 * exact.std / math.sqrt(FIT_N)
    assert abs(as_readings.cv - exact.cv) < 0.1 * exact.cv / math.sqrt(2 * FIT_N)


def test_narrow_durations_read_off_a_minute_clock_are_fitted_as_readings() -> None:
    """30 minutes with a spread of 0.2 minutes, stamped in minutes: few readings are short, but
    their spread is under 10 steps, so they are readings. Read as exact the fit doubles the
    spread and its KS distance to the readings is about 0.4; read as readings the mean lies
    within 4 standard errors and the KS distance under the 0.1% critical value 1.95/√n."""
    truth, n = Gamma(30 * MINUTE, 0.2 / 30), 4_000
    readings = _minute_readings(truth, n, 111)
    result = fit(readings, resolution=MINUTE)
    spread = math.sqrt(truth.var + MINUTE**2 / 6)  # a reading adds the triangle's variance
    assert abs(result.best.mean - truth.mean) < 4 * spread / math.sqrt(n)
    assert result.candidates[0].ks_statistic < 1.95 / math.sqrt(n)
    assert fit(readings).candidates[0].ks_statistic > 1.95 / math.sqrt(n)


def test_readings_made_by_float_arithmetic_are_put_on_the_grid() -> None:
    """Durations taken as differences of float hours sit a hair off whole minutes: they are read
    as the whole minutes they are (the same fit, the same KS distance), while values that are
    not whole minutes at all are refused with the reason."""
    readings = _minute_readings(Exponential(4 * MINUTE), FIT_N, 112)
    noisy = (readings + 1000.0) - 1000.0 + np.random.default_rng(113).normal(0, 1e-9, FIT_N)
    noisy = np.abs(noisy)
    assert not np.array_equal(noisy, readings)
    clean, drifted = fit(readings, resolution=MINUTE), fit(noisy, resolution=MINUTE)
    assert drifted.best == clean.best
    assert drifted.candidates[0].ks_statistic == clean.candidates[0].ks_statistic
    with pytest.raises(SpecError, match="not readings of a clock"):
        fit(readings + 0.5 * MINUTE, resolution=MINUTE)


def _scipy_equivalent(dist: Distribution) -> Any:
    if isinstance(dist, Exponential):
        return stats.expon(scale=dist.mean)
    if isinstance(dist, Lognormal):
        return stats.lognorm(dist.sigma, scale=math.exp(dist.mu))
    if isinstance(dist, Gamma):
        return stats.gamma(dist.shape, scale=dist.scale_h)
    assert isinstance(dist, Weibull)
    return stats.weibull_min(dist.shape, scale=dist.scale_h)


def test_fit_ks_statistic_is_the_kolmogorov_smirnov_test() -> None:
    """Without censoring the reported KS statistic and p-value are scipy's kstest on the fit."""
    data = np.random.default_rng(106).gamma(2.0, 1.0, 800)
    for candidate in fit(data).candidates:
        reference = stats.kstest(data, candidate.distribution.cdf)
        assert candidate.ks_statistic == pytest.approx(reference.statistic, rel=1e-9)
        assert candidate.ks_pvalue == pytest.approx(reference.pvalue, rel=1e-6)
        frozen = _scipy_equivalent(candidate.distribution)
        assert candidate.loglik == pytest.approx(frozen.logpdf(data).sum(), rel=1e-12)
        k = 1 if candidate.family == "exponential" else 2
        assert candidate.aic == pytest.approx(2 * k - 2 * candidate.loglik)


def test_censored_fit_recovers_the_mean_of_an_exponential() -> None:
    """With 30% right-censored values the censored MLE hits the mean; the naive fit is biased.

    Censoring times are exponential with mean m·0.7/0.3, so P(censored) = 0.3 and the naive mean
    of min(T, C) is 0.7·m.
    """
    m = 2.0
    rng = np.random.default_rng(107)
    times = rng.exponential(m, FIT_N)
    limits = rng.exponential(m * 0.7 / 0.3, FIT_N)
    observed = np.minimum(times, limits)
    censored = limits < times
    assert abs(censored.mean() - 0.3) < Z * math.sqrt(0.3 * 0.7 / FIT_N)
    se = m / math.sqrt((~censored).sum())

    result = fit(observed, censored=censored)
    assert result.n == FIT_N and result.n_censored == int(censored.sum())
    exponential = next(c for c in result.candidates if c.family == "exponential")
    assert abs(exponential.distribution.mean - m) < Z * se
    assert result.best.mean == pytest.approx(m, abs=2 * Z * se)
    assert result.candidates[0].ks_pvalue > 1e-3  # Kaplan–Meier against the fit: no alarm

    naive = fit(observed, families=("exponential",)).best
    assert naive.mean < m - Z * se
    assert naive.mean == pytest.approx(0.7 * m, abs=Z * 0.7 * m / math.sqrt(FIT_N))


def test_fit_result_as_dict_is_json() -> None:
    """as_dict() is strict JSON with the best spec, counts and every candidate's statistics."""
    data = np.random.default_rng(108).lognormal(0.0, 1.0, 500)
    censored = np.zeros(500, dtype=bool)
    censored[:50] = True
    document = json.loads(json.dumps(fit(data, censored=censored).as_dict(), allow_nan=False))
    assert document["n"] == 500 and document["n_censored"] == 50
    assert from_spec(document["best"]).family == document["best_family"]
    assert len(document["candidates"]) == 4
    assert set(document["candidates"][0]) >= {
        "family",
        "spec",
        "loglik",
        "aic",
        "ks_statistic",
        "ks_pvalue",
        "mean_h",
        "cv",
    }


@pytest.mark.parametrize(
    ("data", "censored", "message"),
    [
        ([1.0, 0.0, 2.0, -1.0], None, "2 of 4 durations to fit are zero, negative"),
        ([1.0, float("nan"), 2.0], None, "not finite"),
        ([], None, "non-empty"),
        ([1.0, 2.0, 3.0], [True, False], "censored mask has shape"),
        ([1.0, 2.0, 3.0], [2, 0, 0], "True/False"),
        ([1.0, 2.0, 3.0], [True, True, False], "at least two different completed durations"),
        ([2.0, 2.0, 2.0], None, "at least two different completed durations"),
    ],
)
def test_fit_refuses_bad_data(data: list[float], censored: list[Any] | None, message: str) -> None:
    """Non-positive values are refused (never dropped silently), as are bad masks and tiny data."""
    with pytest.raises(SpecError) as caught:
        fit(data, censored=censored)
    assert message in caught.value.message


def test_fit_refuses_families_it_cannot_fit() -> None:
    """Only the four continuous families can be fitted; others are named in the error."""
    with pytest.raises(SpecError, match="cannot fit family 'uniform'"):
        fit([1.0, 2.0, 3.0], families=("uniform",))

"""A desk's parameters in each regime, compiled for the hot path: handling-time draws by
priority rank, routes with the thresholds that pick them, pause durations, patience and the
ranks that preempt (:class:`Rules`). Equal distributions share one stream of draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simkit.engine._draws import Draws, DrawsCache, StreamFactory, no_draw, same_value
from simkit.engine._ledger import PAUSED, RESOLVED, ROUTED
from simkit.engine.model import PAUSE, SupportModel, TeamParams
from simkit.engine.model import RESOLVED as RESOLVED_ROUTE
from simkit.streams import stream_name

if TYPE_CHECKING:
    from simkit.engine._queues import Desk

__all__ = ["Rules", "compile_rules", "same_params"]


@dataclass(eq=False)
class Rules:
    """A desk's parameters in one regime, ready for the hot path."""

    handle: list[Draws]
    """By priority rank."""
    thresholds: list[float]
    """Cumulative route probabilities but the last: ``bisect_right`` picks the route."""
    routes: list[tuple[int, Desk]]
    """``(RESOLVED | PAUSED | ROUTED, target)`` aligned with the thresholds; the target of a
    resolution or a pause is the desk itself."""
    only_route: tuple[int, Desk] | None
    pause: Draws
    """Pause durations; never drawn where no route pauses."""
    patience: Draws | None
    preempt: frozenset[int]


def same_params(a: TeamParams, b: TeamParams) -> bool:
    """Whether two regimes give a desk the same parameters."""
    return a is b or (
        a.handle.keys() == b.handle.keys()
        and all(same_value(a.handle[p], b.handle[p]) for p in a.handle)
        and a.routes == b.routes
        and np.array_equal(a.route_probs, b.route_probs)
        and same_value(a.pause, b.pause)
        and same_value(a.patience, b.patience)
        and a.preempt == b.preempt
    )


def compile_rules(
    desk: Desk,
    model: SupportModel,
    desks: Sequence[Desk],
    streams: StreamFactory,
    *,
    varies: bool,
) -> list[Rules]:
    """The rules of ``desk`` for each regime of its model (only the first when they do not
    vary), routes pointing at the desks of ``desks``."""
    team = desk.model
    by_name = {d.name: d for d in desks}
    handle = [
        DrawsCache(stream_name("handle", team.name, priority), streams)
        for priority in model.priorities
    ]
    pauses = DrawsCache(stream_name("pause", team.name), streams)
    patience = DrawsCache(stream_name("patience", team.name), streams)
    compiled: list[Rules] = []
    for k, params in enumerate(team.params if varies else team.params[:1]):
        draws = [
            handle[rank].require(params.handle[priority], k)
            for rank, priority in enumerate(model.priorities)
        ]
        routes: list[tuple[int, Desk]] = []
        probs: list[float] = []
        for route, prob in zip(params.routes, params.route_probs.tolist(), strict=True):
            if prob <= 0.0:
                continue
            if route == RESOLVED_ROUTE:
                routes.append((RESOLVED, desk))
            elif route == PAUSE:
                if params.pause is None:
                    raise ValueError(f'team "{team.name}" routes to pause without a pause')
                routes.append((PAUSED, desk))
            elif route in by_name:
                routes.append((ROUTED, by_name[route]))
            else:
                raise ValueError(f'team "{team.name}" routes to unknown "{route}"')
            probs.append(prob)
        if not routes:
            routes, probs = [(RESOLVED, desk)], [1.0]
        cumulative = np.cumsum(probs) / sum(probs)
        compiled.append(
            Rules(
                handle=draws,
                thresholds=cumulative[:-1].tolist(),
                routes=routes,
                only_route=routes[0] if len(routes) == 1 else None,
                pause=pauses.get(params.pause, k) or no_draw,
                patience=patience.get(params.patience, k),
                preempt=frozenset(
                    rank for rank, p in enumerate(model.priorities) if p in params.preempt
                ),
            )
        )
    return compiled

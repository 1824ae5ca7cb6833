"""How synthetic readings of each standard metric behave, for the demo portfolio (seed_demo)
and the benchmark data (generate_portfolio). One line per metric, in the order of
Target.STANDARD_METRICS."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricProfile:
    # A plausible threshold for a target on this metric: from `low` to `high`.
    low: float
    high: float
    # How far benchmark readings scatter around the threshold, as a share of it.
    spread: float
    # Demo readings start at `start` times the threshold and approach `end` times it...
    start: float
    end: float
    # ...keeping this many decimals.
    digits: int
    # No reading goes above this (percentages that reach their best).
    ceiling: float | None = None


PROFILES = {
    "task_success_rate": MetricProfile(80, 95, 0.08, 0.84, 1.045, 1, ceiling=99.9),
    "accuracy": MetricProfile(85, 98, 0.06, 0.86, 1.035, 1, ceiling=99.9),
    "latency_p95_ms": MetricProfile(200, 5000, 0.35, 1.9, 0.72, 0),
    "cost_per_task": MetricProfile(0.001, 0.1, 0.4, 2.4, 0.7, 4),
    "safety_incident_rate": MetricProfile(0.1, 1.0, 0.6, 3.0, 0.4, 2),
    "uptime": MetricProfile(99.0, 99.95, 0.004, 0.992, 1.003, 2, ceiling=100.0),
    "drift_psi": MetricProfile(0.1, 0.25, 0.4, 1.6, 0.55, 3),
    "active_users": MetricProfile(50, 2000, 0.4, 0.1, 1.3, 0),
}


def capped(metric_key: str, value: float) -> float:
    """The reading, no higher than its metric's ceiling."""
    profile = PROFILES.get(metric_key)
    if profile is None or profile.ceiling is None:
        return value
    return min(value, profile.ceiling)

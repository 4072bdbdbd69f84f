"""Analytics settings (issue 8). Env: HIREGRAPH_ANALYTICS__<NAME>.

The board-wide `jobStats` rollup (`datasources.postgres.rollup`): `hiregraph worker`
refreshes it after job changes, at most every `rollup_min_interval_seconds`; gateways
answer the requests it covers from it while it is stale by at most
`rollup_max_staleness_seconds` (the time since the first change it does not hold),
and compute them live otherwise. The default staleness matches the response cache's
60 s for aggregates: a dashboard tolerates a minute.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class AnalyticsSettings(BaseModel):
    rollup: bool = Field(
        True, description="Gateways read covered jobStats from the rollup; the worker refreshes it."
    )
    rollup_max_staleness_seconds: float = Field(60.0, ge=0)
    rollup_min_interval_seconds: float = Field(30.0, gt=0)
    rollup_poll_seconds: float = Field(5.0, gt=0)
    rollup_statement_timeout_seconds: float = Field(
        600.0, gt=0, description="The refresh's statement_timeout (it runs in the worker)."
    )
    skill_supply_max_age_seconds: float = Field(
        300.0, ge=0, description="The materialized whole-pool skill supply (MongoDB)."
    )

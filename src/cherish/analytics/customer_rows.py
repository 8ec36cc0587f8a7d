"""The analytics domain's part of the customer-row contract (`cherish.db.customer_rows`): the scores and stage
changes that `cherish analyze` writes."""

from __future__ import annotations

from cherish.analytics import models  # noqa: F401  (the tables declared below)
from cherish.db.customer_rows import CustomerRows, declare

declare(
    CustomerRows("customer_scores", merge="drop", erase="keep",
                 why="derived: the next `cherish analyze` scores the merged customer; numbers, no personal data"),
    CustomerRows("stage_changes", erase="keep",
                 why="the history of stages moves with the customer; an id and two stage names, no personal data"),
)

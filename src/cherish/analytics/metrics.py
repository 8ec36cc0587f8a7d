"""The relationship metrics, defined once with Ibis; docs/metrics.md says what each one means.

Every function takes the engine-neutral tables ``purchases`` (customer_id, day, month, value, channel, branch)
and ``answers`` and returns an Ibis expression: generating a query and running it are separate steps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
from ibis import _


def until(table: Any, as_of: date) -> Any:
    """Only what happened on or before ``as_of`` (a local date)."""
    return table.filter(table.day <= as_of)


def purchase_days(purchases: Any) -> Any:
    """One row per customer and purchase day, with that day's value."""
    return purchases.group_by(["customer_id", "day", "month"]).aggregate(value=_.value.sum())


def customer_summary(purchases: Any) -> Any:
    """Per customer: purchase days, first and last purchase day, total value, acquisition cohort."""
    return purchase_days(purchases).group_by("customer_id").aggregate(
        purchase_days=_.day.count(), first_day=_.day.min(), last_day=_.day.max(), value=_.value.sum(),
        cohort=_.month.min(),
    )


def repeat_rate(purchases: Any) -> Any:
    """Customers with a purchase, and those with at least two purchase days."""
    summary = customer_summary(purchases)
    return summary.aggregate(customers=_.count(), repeaters=(_.purchase_days >= 2).ifelse(1, 0).sum())


def repeat_rate_by_cohort(purchases: Any) -> Any:
    summary = customer_summary(purchases)
    return summary.group_by("cohort").aggregate(
        customers=_.count(), repeaters=(_.purchase_days >= 2).ifelse(1, 0).sum()).order_by("cohort")


def _months_between(later: Any, earlier: Any) -> Any:
    return (later.year() - earlier.year()) * 12 + (later.month() - earlier.month())


def cohort_activity(purchases: Any) -> Any:
    """Per cohort and month offset k ≥ 0: customers active and revenue, for retention and revenue retention."""
    days = purchase_days(purchases)
    cohorts = days.group_by("customer_id").aggregate(cohort=_.month.min())
    joined = days.join(cohorts, "customer_id")
    offset = joined.mutate(k=_months_between(joined.month, joined.cohort))
    return offset.group_by(["cohort", "k"]).aggregate(
        active=_.customer_id.nunique(), revenue=_.value.sum()).order_by(["cohort", "k"])


def cohort_sizes(purchases: Any) -> Any:
    return customer_summary(purchases).group_by("cohort").aggregate(size=_.count()).order_by("cohort")


def days_to_second_purchase(purchases: Any) -> Any:
    """For repeat customers: days from the first to the second purchase day."""
    days = purchase_days(purchases)
    ranked = days.mutate(n=ibis.row_number().over(group_by=days.customer_id, order_by=days.day))
    first = ranked.filter(ranked.n == 0).select("customer_id", first=_.day)
    second = ranked.filter(ranked.n == 1).select("customer_id", second=_.day)
    gaps = first.join(second, "customer_id").mutate(gap=(_.second - _.first).cast("int64").cast("float64"))
    return gaps.aggregate(n=_.count(), median=_.gap.median(), p25=_.gap.quantile(0.25), p75=_.gap.quantile(0.75),
                          mean=_.gap.mean())


def score_counts(answers: Any, by: str | None = None) -> Any:
    """Per score type (and ``by``, if given): the counts and moments every experience score is built from."""
    keys = ["score_type"] + ([by] if by else [])
    return answers.group_by(keys).aggregate(
        n=_.count(),
        promoters=(_.score >= 9).ifelse(1, 0).sum(),
        detractors=(_.score <= 6).ifelse(1, 0).sum(),
        satisfied=(_.score >= 4).ifelse(1, 0).sum(),
        high_effort=(_.score <= 3).ifelse(1, 0).sum(),
        mean=_.score.mean(),
        sd=_.score.std(how="sample"),
    ).order_by(keys)


def unit_moments(answers: Any, by: str) -> Any:
    """Per score type and unit of ``by``: count, sum and sum of squares of the individual scores."""
    return answers.filter(answers[by].notnull()).group_by(["score_type", by]).aggregate(
        n=_.count(), total=_.score.sum(), squares=(_.score * _.score).sum()).order_by(["score_type", by])


def rfm_inputs(purchases: Any, as_of: Any) -> Any:
    """Per customer: days since the last purchase day, purchase days, total value."""
    summary = customer_summary(purchases)
    return summary.select("customer_id", frequency=summary.purchase_days, monetary=summary.value,
                          recency_days=(ibis.literal(as_of) - summary.last_day).cast("int64"))


def rfm_scores(purchases: Any, as_of: Any) -> Any:
    """Quintile scores 1–5 among customers with a purchase, by rank; ties share the lower rank."""
    base = rfm_inputs(purchases, as_of)
    n = base.count()

    def quintile(rank: Any) -> Any:
        return (rank * 5 / n).floor().cast("int64") + 1

    return base.mutate(
        r=quintile(ibis.rank().over(order_by=ibis.desc(base.recency_days))),  # fewer days is better
        f=quintile(ibis.rank().over(order_by=base.frequency)),
        m=quintile(ibis.rank().over(order_by=base.monetary)),
    )


def rfm_distribution(purchases: Any, as_of: Any) -> Any:
    """How many customers got each R, F and M score."""
    scores = rfm_scores(purchases, as_of)
    parts = [scores.group_by(score=scores[letter]).aggregate(customers=_.count()).mutate(letter=ibis.literal(letter))
             for letter in ("r", "f", "m")]
    return parts[0].union(parts[1]).union(parts[2])


def customer_cadence(purchases: Any, as_of: Any) -> Any:
    """Per customer: purchase days, first, previous and last purchase day, days since the last one, value."""
    days = purchase_days(purchases)
    ranked = days.mutate(back=ibis.row_number().over(group_by=days.customer_id, order_by=ibis.desc(days.day)))
    previous = ranked.filter(ranked.back == 1).select("customer_id", previous_day=ranked.day)
    first_values = days.group_by("customer_id").aggregate(first_value=days.value.argmin(days.day))
    summary = customer_summary(purchases)
    joined = summary.left_join(previous, "customer_id").left_join(first_values, "customer_id")
    return joined.select(
        "customer_id", "purchase_days", "first_day", "last_day", "previous_day", "value", "first_value",
        since_last=(ibis.literal(as_of) - joined.last_day).cast("int64").cast("float64"),
        age=(ibis.literal(as_of) - joined.first_day).cast("int64").cast("float64"),
        span=(joined.last_day - joined.first_day).cast("int64").cast("float64"),
        last_gap=(joined.last_day - joined.previous_day).cast("int64").cast("float64"),
    )


def repeat_rate_in_window(purchases: Any, start: Any, end: Any) -> Any:
    """Customers whose first purchase day falls in [start, end], and those of them with a second by ``end``."""
    summary = customer_summary(purchases.filter(purchases.day <= end))
    inside = summary.filter((summary.first_day >= start) & (summary.first_day <= end))
    return inside.aggregate(customers=_.count(), repeaters=(_.purchase_days >= 2).ifelse(1, 0).sum())


def repeat_rate_by_first_channel(purchases: Any) -> Any:
    """Repeat-customer rate by the channel of each customer's first purchase day."""
    summary = customer_summary(purchases)
    first = purchases.join(summary, (purchases.customer_id == summary.customer_id)
                           & (purchases.day == summary.first_day))
    first_channel = first.group_by(first.customer_id).aggregate(channel=first.channel.min(),
                                                                purchase_days=first.purchase_days.max())
    return first_channel.group_by("channel").aggregate(
        customers=_.count(), repeaters=(_.purchase_days >= 2).ifelse(1, 0).sum()).order_by("channel")


def purchase_history(purchases: Any, calibration_end: Any, holdout_end: Any = None) -> Any:
    """The summary the purchase models fit on, one row per customer whose first purchase day is on or before
    ``calibration_end``: repeat purchase days by then (frequency), days from the first purchase day to the last by then
    (recency) and to ``calibration_end`` (T), the mean value of those repeat days (null without one), and the purchase
    days after ``calibration_end`` up to ``holdout_end`` (holdout; all of them without one).

    Defined once: `cherish analyze` compresses it (``calibration_summary``), the CLV commands read it from files.
    """
    days = purchase_days(purchases)
    if holdout_end is not None:
        days = days.filter(days.day <= holdout_end)
    inside = days.day <= calibration_end
    per_customer = days.group_by("customer_id").aggregate(
        first_day=_.day.min(), last_day=_.day.max(where=inside), calibration=inside.ifelse(1, 0).sum(),
        holdout=(~inside).ifelse(1, 0).sum(), calibration_value=_.value.sum(where=inside),
        first_value=_.value.argmin(_.day))
    known = per_customer.filter(per_customer.first_day <= calibration_end)
    frequency = (known.calibration - 1).cast("int64")
    return known.select(
        "customer_id", frequency=frequency,
        recency=(known.last_day - known.first_day).cast("int64"),
        T=(ibis.literal(calibration_end) - known.first_day).cast("int64"),
        monetary_value=(frequency > 0).ifelse((known.calibration_value - known.first_value) / frequency, ibis.null()),
        holdout=known.holdout.cast("int64"))


def calibration_summary(purchases: Any, calibration_end: Any) -> Any:
    """``purchase_history`` compressed where the data lives: one row per distinct (frequency, recency, T, holdout),
    with its customers. ``purchases`` should already end at the holdout's end."""
    history = purchase_history(purchases, calibration_end)
    return history.group_by(["frequency", "recency", "T", "holdout"]).aggregate(customers=_.count())


def repeat_within_days_by_cohort(purchases: Any) -> Any:
    """Per acquisition cohort: customers, and the day gap from each one's first to second purchase day bucketed
    by the windows the overview uses (90 and 365 days); whether a window has passed is decided by the caller."""
    days = purchase_days(purchases)
    ranked = days.mutate(n=ibis.row_number().over(group_by=days.customer_id, order_by=days.day))
    first = ranked.filter(ranked.n == 0).select("customer_id", first=_.day, cohort=_.month)
    second = ranked.filter(ranked.n == 1).select("customer_id", second=_.day)
    joined = first.left_join(second, "customer_id")
    gap = (joined.second - joined.first).cast("int64")
    return joined.group_by("cohort").aggregate(
        customers=_.count(), within_90=(gap <= 90).ifelse(1, 0).sum(),
        within_365=(gap <= 365).ifelse(1, 0).sum()).order_by("cohort")

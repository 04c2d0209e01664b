"""Pacing and budget-vs-actual as pure pandas: DataFrames in, DataFrames out, no database.

Frames (all money in int64 minor units of the budget currency unless said otherwise):

lines     line_id, budget_id, campaign_id, channel, planned_minor, window_start, window_end,
          budget_start, budget_end, under_pct, over_pct
          (window = the campaign's flight inside the budget period)
phases    line_id, month (first day), planned_minor           (optional monthly phasing)
actuals   campaign_id, channel, day, kind ("actual" | "committed"), source ("ads" |
          "influencers"), in_flight (bool), converted_minor (nullable Int64: <NA> = missing
          FX rate), fx_rate, fx_rate_day          (analytics.spend.campaign_spend + convert)

A line's actual is the in-flight spend of its campaign × channel inside the budget period;
the period's spend outside the flight is `outside_minor`, shown beside it and kept out of
spent, variance, projection and state (analytics.spend explains the windows).
Commitments count before they are paid: spent = actual + committed. Ad spend is projected at
its run rate to the end of the flight; influencer costs are lump sums and are not.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from budgets.periods import month_end, months_between, overlap_days
from budgets.split import split

STATES = {
    "on_track": "On track",
    "under_pacing": "Under-pacing",
    "over_pacing": "Over-pacing",
    "overspent": "Overspent",
    "missing_rate": "Missing rate",
}
SUMMED = (
    "planned_minor",
    "plan_to_date_minor",
    "actual_minor",
    "committed_minor",
    "spent_minor",
    "projected_minor",
    "outside_minor",
)
CENT = Decimal("0.01")


def _active(line, month: date) -> tuple[date, date]:
    """The days of `month` the plan runs on: the flight's, else (a month the flight misses
    but phasing put money in) the period's."""
    end = month_end(month)
    start, stop = max(line.window_start, month), min(line.window_end, end)
    if stop < start:
        start, stop = max(line.budget_start, month), min(line.budget_end, end)
    return start, stop


def monthly_plan(lines: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """line_id, month, planned_minor, active_start, active_end, plan_days: every month of each
    line's budget period.

    Phased lines take their phases; the others split their amount by the flight's days in
    each month with the largest-remainder method, so months add up to the line exactly.
    """
    phased = (
        {
            lid: dict(zip(g["month"], g["planned_minor"], strict=True))
            for lid, g in phases.groupby("line_id")
        }
        if not phases.empty
        else {}
    )
    rows: list[tuple] = []
    shapes: dict[tuple, tuple] = {}  # lines of one flight and period share their months
    for line in lines.itertuples(index=False):
        key = (line.budget_start, line.budget_end, line.window_start, line.window_end)
        if key not in shapes:
            months = months_between(line.budget_start, line.budget_end)
            spans = [_active(line, m) for m in months]
            days = [(stop - start).days + 1 for start, stop in spans]
            window = [
                overlap_days(line.window_start, line.window_end, m, month_end(m)) for m in months
            ]
            shapes[key] = (months, spans, days, window if any(window) else days)
        months, spans, days, weights = shapes[key]
        if line.line_id in phased:
            parts = [int(phased[line.line_id].get(m, 0)) for m in months]
        else:
            parts = split(int(line.planned_minor), weights)
        for month, part, (start, stop), count in zip(months, parts, spans, days, strict=True):
            rows.append((line.line_id, month, part, start, stop, count))
    columns = ["line_id", "month", "planned_minor", "active_start", "active_end", "plan_days"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"planned_minor": "int64", "plan_days": "int64"})


def attach_all(lines: pd.DataFrame, actuals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actual rows that belong to a line (same campaign × channel, day in the budget period),
    with their month: those inside the campaign's flight, and those outside it."""
    keys = lines[["line_id", "campaign_id", "channel", "budget_start", "budget_end"]]
    merged = actuals.merge(keys, on=["campaign_id", "channel"], how="inner")
    inside = (merged["day"] >= merged["budget_start"]) & (merged["day"] <= merged["budget_end"])
    merged = merged[inside].drop(columns=["budget_start", "budget_end"])
    merged["month"] = [d.replace(day=1) for d in merged["day"]]
    flight = merged["in_flight"].astype(bool)
    return merged[flight].reset_index(drop=True), merged[~flight].reset_index(drop=True)


def attach(lines: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """The in-flight rows of `attach_all`: what a line's actual and committed count."""
    return attach_all(lines, actuals)[0]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving empty frames out (pandas warns about their dtypes otherwise)."""
    full = [f for f in frames if not f.empty]
    if not full:
        return frames[0]
    return pd.concat(full, ignore_index=True) if len(full) > 1 else full[0]


def _sum_known(frame: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    """Sum converted amounts per group; a group with any missing rate sums to <NA>."""
    if frame.empty:
        return pd.DataFrame(columns=[*keys, name, f"{name}_missing"])
    work = frame.assign(
        _v=frame["converted_minor"].fillna(0).astype("int64"),
        _m=frame["converted_minor"].isna(),
    )
    grouped = work.groupby(keys, sort=False).agg(_v=("_v", "sum"), _m=("_m", "any")).reset_index()
    grouped[name] = grouped["_v"].astype("Int64").mask(grouped["_m"])
    return grouped.rename(columns={"_m": f"{name}_missing"}).drop(columns=["_v"])


def _rates_used(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    used = frame[frame["fx_rate"].notna()]
    if used.empty:
        return pd.DataFrame(columns=[*keys, "fx_rate", "fx_rates_used"])
    out = []
    for key, group in used.groupby(keys, sort=False):
        pairs = sorted(
            {(d, r) for d, r in zip(group["fx_rate_day"], group["fx_rate"], strict=True)}
        )
        single = pairs[0][1] if len({r for _, r in pairs}) == 1 else None
        text = "; ".join(f"{r} ({d.isoformat()})" for d, r in pairs)
        out.append((*(key if isinstance(key, tuple) else (key,)), single, text))
    return pd.DataFrame(out, columns=[*keys, "fx_rate", "fx_rates_used"])


def budget_vs_actual(
    lines: pd.DataFrame, plan: pd.DataFrame, actuals: pd.DataFrame
) -> pd.DataFrame:
    """One row per line × month: planned, committed, actual, variance, variance_pct, fx."""
    keys = ["line_id", "month"]
    rows = plan[[*keys, "planned_minor"]]
    attached, outside = attach_all(lines, actuals)
    parts = (
        ("committed_minor", attached[attached["kind"] == "committed"]),
        ("actual_minor", attached[attached["kind"] == "actual"]),
        ("outside_minor", outside),
    )
    for name, part in parts:
        rows = rows.merge(_sum_known(part, keys, name), on=keys, how="left")
        rows[name] = (
            rows[name]
            .astype("Int64")
            .fillna(0)
            .mask(rows[f"{name}_missing"].fillna(False).astype(bool))
        )
    used = _concat([attached, outside])
    rows = rows.merge(_rates_used(used, keys), on=keys, how="left")
    flags = [f"{name}_missing" for name, _ in parts]
    rows["fx_missing"] = rows[flags].fillna(False).astype(bool).any(axis=1)
    rows = rows.drop(columns=flags)
    rows["variance_minor"] = (
        rows["planned_minor"].astype("Int64") - rows["committed_minor"] - rows["actual_minor"]
    )
    rows["variance_pct"] = [
        None
        if pd.isna(v) or p == 0
        else (Decimal(int(v)) * 100 / Decimal(int(p))).quantize(CENT, ROUND_HALF_EVEN)
        for v, p in zip(
            rows["variance_minor"].tolist(), rows["planned_minor"].tolist(), strict=True
        )
    ]
    rows["fx_rate"] = rows["fx_rate"].astype("object").where(rows["fx_rate"].notna(), None)
    rows["fx_rates_used"] = rows["fx_rates_used"].fillna("")
    return rows.sort_values(keys, kind="stable").reset_index(drop=True)


def pace(
    lines: pd.DataFrame, plan: pd.DataFrame, actuals: pd.DataFrame, today: date
) -> pd.DataFrame:
    """Per line: plan to date, actual and committed to date, run-rate projection, state."""
    attached, outside = attach_all(lines, actuals)
    to_date = attached[(attached["day"] <= today) | (attached["kind"] == "committed")]
    out = lines.copy()
    out["plan_to_date_minor"] = (
        _plan_to_date(plan, today).reindex(out["line_id"]).fillna(0).astype("int64").to_numpy()
    )
    for name, part in (
        ("actual_minor", to_date[to_date["kind"] == "actual"]),
        ("committed_minor", to_date[to_date["kind"] == "committed"]),
        ("runrate_minor", to_date[(to_date["kind"] == "actual") & (to_date["source"] == "ads")]),
    ):
        sums = _sum_known(part, ["line_id"], name).set_index("line_id")
        missing = sums[f"{name}_missing"].reindex(out["line_id"]).fillna(False).astype(bool)
        values = sums[name].reindex(out["line_id"]).astype("Int64").fillna(0).mask(missing)
        out[name] = values.set_axis(out.index)
        out["missing_rate"] = missing.to_numpy() | out.get("missing_rate", False)
    sums = _sum_known(outside[outside["day"] <= today], ["line_id"], "outside_minor")
    sums = sums.set_index("line_id")
    missing = sums["outside_minor_missing"].reindex(out["line_id"]).fillna(False).astype(bool)
    values = sums["outside_minor"].reindex(out["line_id"]).astype("Int64").fillna(0)
    # Its own figure: a missing rate here leaves the line's state alone.
    out["outside_minor"] = values.mask(missing).set_axis(out.index)
    out["spent_minor"] = out["actual_minor"] + out["committed_minor"]
    out["projected_minor"] = [
        _project(r, today)
        for r in out[["window_start", "window_end", "spent_minor", "runrate_minor"]].itertuples(
            index=False
        )
    ]
    return classify(out.drop(columns=["runrate_minor"]))


def _plan_to_date(plan: pd.DataFrame, today: date) -> pd.Series:
    """Each month's plan, prorated by its active days already elapsed; summed per line."""
    if plan.empty:
        return pd.Series(dtype="int64")
    parts = []
    for planned, start, stop, days in zip(
        plan["planned_minor"],
        plan["active_start"],
        plan["active_end"],
        plan["plan_days"],
        strict=True,
    ):
        elapsed = max(0, (min(stop, today) - start).days + 1)
        parts.append(int(planned) * elapsed // days if days else 0)
    return plan.assign(_ptd=parts).groupby("line_id")["_ptd"].sum()


def _project(row, today: date):
    spent, runrate = row.spent_minor, row.runrate_minor
    if pd.isna(spent) or pd.isna(runrate):
        return pd.NA
    if today < row.window_start:
        return int(spent)
    total_days = (row.window_end - row.window_start).days + 1
    elapsed = min((today - row.window_start).days + 1, total_days)
    # Ad spend keeps its daily run rate for the days left; lump sums do not repeat.
    return int(spent) + int(runrate) * (total_days - elapsed) // elapsed


def classify(frame: pd.DataFrame) -> pd.DataFrame:
    """Add state and projected_overspend from summed columns and the thresholds (Python ints,
    so the comparisons are exact for any amount)."""
    states, flags = [], []
    for r in frame[
        [
            "planned_minor",
            "plan_to_date_minor",
            "spent_minor",
            "projected_minor",
            "missing_rate",
            "under_pct",
            "over_pct",
        ]
    ].itertuples(index=False):
        if r.missing_rate or pd.isna(r.spent_minor):
            states.append("missing_rate")
            flags.append(False)
            continue
        planned, ptd, spent = int(r.planned_minor), int(r.plan_to_date_minor), int(r.spent_minor)
        if spent > planned:
            state = "overspent"
        elif spent * 100 > ptd * int(r.over_pct):
            state = "over_pacing"
        elif spent * 100 < ptd * int(r.under_pct):
            state = "under_pacing"
        else:
            state = "on_track"
        states.append(state)
        flags.append(
            state != "overspent"
            and not pd.isna(r.projected_minor)
            and int(r.projected_minor) > planned
        )
    return frame.assign(state=states, projected_overspend=flags)


def roll_up(paced: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum paced lines per group (budget, campaign or channel) and classify the sums."""
    if paced.empty:
        return paced.iloc[0:0]
    work = paced.assign(missing_rate=paced["missing_rate"].astype(bool))
    agg = {c: (c, "sum") for c in SUMMED}
    for column in SUMMED:
        # A sum holding an amount without a rate is missing too, never the part that has one.
        work[f"{column}_na"] = work[column].isna()
        agg[f"{column}_na"] = (f"{column}_na", "any")
    agg.update(
        missing_rate=("missing_rate", "any"),
        under_pct=("under_pct", "first"),
        over_pct=("over_pct", "first"),
        lines=("line_id", "count"),
    )
    out = work.groupby(by, sort=True).agg(**agg).reset_index()
    for column in SUMMED:
        out[column] = out[column].astype("Int64").mask(out.pop(f"{column}_na"))
    return classify(out)


def daily_curve(
    plan: pd.DataFrame,
    paced_budget: pd.Series,
    attached: pd.DataFrame,
    start: date,
    end: date,
    today: date,
) -> pd.DataFrame:
    """Cumulative plan, actual (spend + commitments by their day) and projection per day."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    per_day = dict.fromkeys(days, 0)
    for planned, first, last in zip(
        plan["planned_minor"], plan["active_start"], plan["active_end"], strict=True
    ):
        inside = [d for d in days if first <= d <= last]
        weights = [1] * len(inside)
        for d, part in zip(inside, split(int(planned), weights) if inside else [], strict=True):
            per_day[d] += part
    spend = dict.fromkeys(days, 0)
    for day, kind, value in zip(
        attached["day"], attached["kind"], attached["converted_minor"].fillna(0), strict=True
    ):
        when = min(day, today) if kind == "committed" else day
        if start <= when <= end and when <= today:
            spend[when] += int(value)
    frame = pd.DataFrame(
        {
            "day": days,
            "plan": pd.Series(per_day.values()).cumsum(),
            "actual": pd.Series(spend.values()).cumsum(),
        }
    )
    frame.loc[frame["day"] > today, "actual"] = pd.NA
    spent_now = int(frame.loc[frame["day"] <= today, "actual"].iloc[-1]) if today >= start else 0
    projected = paced_budget.get("projected_minor", spent_now)
    remaining = [d for d in days if d >= today]
    projection = [pd.NA] * len(days)
    if remaining and not pd.isna(projected):
        span = max((end - today).days, 1)
        for i, d in enumerate(days):
            if d >= today:
                projection[i] = spent_now + (int(projected) - spent_now) * (d - today).days // span
    frame["projection"] = projection
    return frame

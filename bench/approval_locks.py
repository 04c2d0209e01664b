"""What the money locks cost an approval: approving a submitted line with the lock path
(core/locking.py: the line locked FOR UPDATE and re-read, its budget and campaign read fresh
in the same statement) beside the same approval with the lock replaced by a no-op, in the
same run, alternating one with, one without, so drift on a shared machine hits both alike.
Each approval is what the view does: load the user and line, approve, commit. Goal: the locks
add < 5 ms (median).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date, timedelta

from bench.common import bench_app, fresh_database

APPROVALS = int(os.environ.get("BENCH_APPROVALS", "300"))  # of each kind
GOAL_MS = 5.0


def _seed(count: int) -> tuple[int, list[int]]:
    """A finance user, and `count` submitted lines (one campaign each) in one budget."""
    from budgets.models import AllocationLine, Budget
    from campaigns.models import Campaign
    from core.extensions import db
    from core.models import User

    marketer = User(email="m@bench.test", name="Mia Marketer", role="marketer")
    finance = User(email="f@bench.test", name="Fiona Finance", role="finance")
    db.session.add_all([marketer, finance])
    db.session.flush()
    today = date.today()
    budget = Budget(
        name="Bench",
        period="bench",
        period_kind="custom",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=60),
        currency="EUR",
        total_minor=count * 1_000_000,
        owner_id=finance.id,
    )
    db.session.add(budget)
    db.session.flush()
    ids = []
    for n in range(count):
        campaign = Campaign(
            name=f"Campaign {n}",
            objective="sales",
            channels_csv=",meta_ads,",
            owner_id=marketer.id,
            start_date=today - timedelta(days=10),
            end_date=today + timedelta(days=40),
            currency="EUR",
            planned_budget_minor=1_000_000,
        )
        db.session.add(campaign)
        db.session.flush()
        line = AllocationLine(
            budget_id=budget.id,
            campaign_id=campaign.id,
            channel="meta_ads",
            currency="EUR",
            planned_minor=500_000,
            status="submitted",
            requested_by_id=marketer.id,
            amounts_edited_by_id=marketer.id,
            submitted_by_id=marketer.id,
        )
        db.session.add(line)
        db.session.flush()
        ids.append(line.id)
    db.session.commit()
    return finance.id, ids


def _approve(app, finance_id: int, line_id: int) -> float:
    """One approval as the view does it; seconds spent in approve + commit."""
    from budgets import workflow
    from budgets.models import AllocationLine
    from core.extensions import db
    from core.models import User

    with app.app_context():
        user = db.session.get(User, finance_id)
        line = db.session.get(AllocationLine, line_id)
        start = time.perf_counter()
        workflow.approve_line(user, line, "")
        db.session.commit()
        seconds = time.perf_counter() - start
        assert line.status == "approved"
        db.session.remove()
    return seconds


def main() -> dict:
    import budgets.services as budget_services

    app = bench_app(fresh_database("flightdeck_bench_approval_locks"))
    with app.app_context():
        finance_id, line_ids = _seed(2 * APPROVALS + 20)
    for line_id in line_ids[:20]:  # warm up: connections, statement caches
        _approve(app, finance_id, line_id)
    real_lock = budget_services.lock
    with_lock: list[float] = []
    without_lock: list[float] = []
    pending = line_ids[20:]
    try:
        for i in range(APPROVALS):
            budget_services.lock = real_lock
            with_lock.append(_approve(app, finance_id, pending[2 * i]))
            budget_services.lock = lambda *objects, **options: None
            without_lock.append(_approve(app, finance_id, pending[2 * i + 1]))
    finally:
        budget_services.lock = real_lock
    with app.app_context():
        from core.extensions import db

        db.engine.dispose()
    ms = 1000.0
    med_with = statistics.median(with_lock) * ms
    med_without = statistics.median(without_lock) * ms
    added = med_with - med_without
    p90 = lambda xs: statistics.quantiles(xs, n=10)[-1] * ms  # noqa: E731
    result = {
        "approvals_each": APPROVALS,
        "median_ms_with_locks": round(med_with, 2),
        "median_ms_without_locks": round(med_without, 2),
        "added_ms": round(added, 2),
        "p90_ms_with_locks": round(p90(with_lock), 2),
        "p90_ms_without_locks": round(p90(without_lock), 2),
        "goal_ms": GOAL_MS,
    }
    print(
        f"| Approve a line, {APPROVALS} each way | with locks {med_with:.2f} ms | "
        f"without {med_without:.2f} ms | locks add {added:.2f} ms (goal < {GOAL_MS:g}) |"
    )
    if added >= GOAL_MS:
        raise AssertionError(f"the locks add {added:.2f} ms to an approval (goal < {GOAL_MS} ms)")
    return result


if __name__ == "__main__":
    main()

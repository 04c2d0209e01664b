"""Route × role expectations for the budgets blueprint (merged into tests/test_route_matrix.py).

`Expect` mirrors tests.test_route_matrix.Expect (that module imports this one at load, so it
cannot be imported back here): the matrix reads .method, .path, .statuses and .data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("anonymous", "admin", "marketer", "finance", "coordinator", "viewer")
LOGIN = 302


@dataclass(frozen=True)
class Expect:
    method: str
    path: str
    statuses: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)


def by_role(default: int, anonymous: int = LOGIN, **overrides: int) -> dict[str, int]:
    result = dict.fromkeys(ROLES, default)
    result["anonymous"] = anonymous
    result.update(overrides)
    return result


READ = by_role(200)
FINANCE_PAGE = by_role(403, finance=200)
FINANCE_POST = by_role(403, finance=302)
REQUEST_PAGE = by_role(403, marketer=200, finance=200)
REQUEST_POST = by_role(403, marketer=302, finance=302)
EXPORT = by_role(403, admin=200, finance=200)

EXPECTED: dict[str, Expect] = {
    "budgets.index": Expect("GET", "/budgets/", READ),
    "budgets.create": Expect("GET", "/budgets/new", FINANCE_PAGE),
    "budgets.detail": Expect("GET", "/budgets/{budget_id}", READ),
    "budgets.edit": Expect("GET", "/budgets/{budget_id}/edit", FINANCE_PAGE),
    # The sample period is still running: finance is sent back with a message.
    "budgets.close": Expect("POST", "/budgets/{budget_id}/close", FINANCE_POST),
    "budgets.history": Expect(
        "GET", "/budgets/{budget_id}/history", by_role(403, admin=200, finance=200)
    ),
    "budgets.export": Expect("GET", "/budgets/{budget_id}/export?format=csv", EXPORT),
    "budgets.approvals": Expect("GET", "/budgets/approvals", READ),
    "budgets.notifications_read": Expect("POST", "/budgets/notifications/read", by_role(302)),
    "budgets.finance.dashboard": Expect(
        "GET", "/budgets/finance/", by_role(403, admin=200, finance=200, viewer=200)
    ),
    "budgets.finance.export_period": Expect(
        "GET", "/budgets/finance/export?period={period}&format=xlsx", EXPORT
    ),
    "budgets.fx.rates": Expect("GET", "/budgets/fx/", by_role(200, coordinator=403)),
    "budgets.fx.add_rate": Expect(
        "POST",
        "/budgets/fx/",
        FINANCE_POST,
        {"day": "2026-11-01", "base_currency": "USD", "quote_currency": "EUR", "rate": "0.9"},
    ),
    "budgets.fx.delete_rate": Expect("POST", "/budgets/fx/{rate_id}/delete", FINANCE_POST),
    "budgets.fx.import_rates": Expect("GET", "/budgets/fx/import", FINANCE_PAGE),
    "budgets.lines.new_line": Expect("GET", "/budgets/{budget_id}/lines/new", REQUEST_PAGE),
    "budgets.lines.split_lines": Expect("GET", "/budgets/{budget_id}/split", REQUEST_PAGE),
    "budgets.lines.edit_line": Expect("GET", "/budgets/lines/{draft_line_id}/edit", REQUEST_PAGE),
    "budgets.lines.phasing": Expect("GET", "/budgets/lines/{draft_line_id}/phasing", REQUEST_PAGE),
    "budgets.lines.submit_line": Expect(
        "POST", "/budgets/lines/{draft_line_id}/submit", REQUEST_POST
    ),
    "budgets.lines.withdraw_line": Expect(
        "POST", "/budgets/lines/{draft_line_id}/withdraw", REQUEST_POST
    ),
    "budgets.lines.approve_line": Expect(
        "POST", "/budgets/lines/{submitted_line_id}/approve", FINANCE_POST
    ),
    "budgets.lines.reject_line": Expect(
        "POST", "/budgets/lines/{submitted_line_id}/reject", FINANCE_POST, {"comment": "No"}
    ),
    "budgets.lines.new_reallocation": Expect(
        "GET", "/budgets/{budget_id}/reallocations/new", REQUEST_PAGE
    ),
    "budgets.lines.approve_reallocation": Expect(
        "POST", "/budgets/reallocations/{reallocation_id}/approve", FINANCE_POST
    ),
    "budgets.lines.reject_reallocation": Expect(
        "POST",
        "/budgets/reallocations/{reallocation_id}/reject",
        FINANCE_POST,
        {"comment": "Not now"},
    ),
}


def make_sample(users) -> dict:
    """A budget of this quarter with a draft, a submitted and two approved lines on a campaign
    the marketer owns, a pending reallocation between the approved ones, and an FX rate."""
    from datetime import date

    from budgets.models import AllocationLine, Budget, FxRate, Reallocation
    from budgets.periods import parse_period
    from core.extensions import db
    from tests import factories

    today = date.today()
    period = parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    marketer = users["marketer"]
    budget = Budget(
        name="Matrix budget",
        period=period.label,
        period_kind=period.kind.value,
        start_date=period.start,
        end_date=period.end,
        currency="EUR",
        total_minor=10_000_000,
        owner_id=users["finance"].id,
    )
    campaign = factories.CampaignFactory(
        owner=marketer,
        start_date=period.start,
        end_date=period.end,
        channels_csv=",meta_ads,google_ads,influencers,other,",
    )
    db.session.add(budget)
    db.session.flush()
    lines = {}
    for key, channel, status in (
        ("draft", "other", "draft"),
        ("submitted", "google_ads", "submitted"),
        ("from", "meta_ads", "approved"),
        ("to", "influencers", "approved"),
    ):
        lines[key] = AllocationLine(
            budget_id=budget.id,
            campaign_id=campaign.id,
            channel=channel,
            currency="EUR",
            planned_minor=100_000,
            status=status,
            requested_by_id=marketer.id,
        )
    db.session.add_all(lines.values())
    db.session.flush()
    move = Reallocation(
        budget_id=budget.id,
        from_line_id=lines["from"].id,
        to_line_id=lines["to"].id,
        currency="EUR",
        amount_minor=1_000,
        reason="Creators outperform",
        requested_by_id=marketer.id,
    )
    rate = FxRate(day=today, base_currency="USD", quote_currency="EUR", rate=1, source="t")
    db.session.add_all([move, rate])
    db.session.flush()
    return {
        "budget_id": budget.id,
        "period": budget.period,
        "draft_line_id": lines["draft"].id,
        "submitted_line_id": lines["submitted"].id,
        "reallocation_id": move.id,
        "rate_id": rate.id,
    }

"""One figure everywhere: random campaigns, flights, a budget and its lines, spend facts across
accounts, currencies and days (some outside the flights, some unmapped), FX rates (some missing,
some stored the other way round) and influencer payments. Every surface is read as a user reads
it — budget page, finance dashboard, budget CSV and XLSX, performance page, export performance,
goal progress, influencer ROI — and each shows the same number for the same window; totals tie
out (per channel = campaign, in the flight + outside it = all of it, lines = budget).

Windows (analytics.spend): the budget period for the budget surfaces and the performance page
asked for those dates; the flight for goal progress; all time for influencer ROI.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.models import AdAccount, PlatformCampaign, SpendFact
from analytics.services import refresh_goals
from budgets.models import FxRate
from core.extensions import db
from influencers.models import Influencer, Partnership, PaymentMilestone
from tests import factories
from tests.budgets.factories import BudgetFactory, LineFactory
from tests.conftest import login

TODAY = date.today()
BASE = TODAY - timedelta(days=90)  # spend days are BASE + 0..89: up to yesterday
ADS = ("meta_ads", "google_ads")
FOREIGN = ("USD", "GBP")
EXAMPLES = int(os.environ.get("ONE_FIGURE_EXAMPLES", "10"))  # ~3 s each


def day(offset: int) -> date:
    return BASE + timedelta(days=offset)


@dataclass
class CampaignSpec:
    start: int
    end: int
    lines: dict[str, int]
    milestones: list[tuple[str, int, int]] = field(default_factory=list)  # status, minor, day


@dataclass
class World:
    period: tuple[int, int]
    campaigns: list[CampaignSpec]
    accounts: list[tuple[str, str]]  # platform, currency
    pcs: list[tuple[int, int | None]]  # account index, campaign index (None: unmapped)
    facts: dict[tuple[int, int], tuple[int, int]]  # (pc, day) -> spend minor, conversions
    rates: dict[str, list[tuple[int, Decimal, bool]]]  # currency -> (day, rate, stored inverted)


@st.composite
def worlds(draw) -> World:
    p0 = draw(st.integers(0, 50))
    period = (p0, p0 + draw(st.integers(15, 75)))
    campaigns = []
    for _ in range(draw(st.integers(1, 2))):
        start = draw(st.integers(0, 85))
        channels = draw(
            st.lists(st.sampled_from((*ADS, "influencers")), min_size=1, max_size=3, unique=True)
        )
        spec = CampaignSpec(
            start=start,
            end=start + draw(st.integers(2, 50)),
            lines={c: draw(st.integers(1, 5_000_000)) for c in channels},
        )
        # Influencer payments dated inside the period (paid ones by yesterday).
        for _ in range(draw(st.integers(0, 3))):
            status = draw(st.sampled_from(("paid", "pending", "payable")))
            last = min(period[1], 89) if status == "paid" else period[1]
            spec.milestones.append(
                (status, draw(st.integers(1, 900_000)), draw(st.integers(period[0], last)))
            )
        campaigns.append(spec)
    accounts = draw(
        st.lists(
            st.tuples(st.sampled_from(ADS), st.sampled_from(("EUR", *FOREIGN))),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    targets = [*range(len(campaigns)), *range(len(campaigns)), None]  # mostly mapped
    pcs = [
        (a, draw(st.sampled_from(targets)))
        for a in range(len(accounts))
        for _ in range(draw(st.integers(1, 2)))
    ]
    facts = draw(
        st.dictionaries(
            st.tuples(st.integers(0, len(pcs) - 1), st.integers(0, 89)),
            st.tuples(st.integers(0, 2_000_000), st.integers(0, 30)),
            max_size=40,
        )
    )
    rate = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("1.6"), places=4)
    rates = {
        cur: draw(
            st.lists(
                st.tuples(st.integers(-10, 89), rate, st.booleans()),
                max_size=3,
                unique_by=lambda r: r[0],
            )
        )
        for cur in FOREIGN
    }
    return World(period, campaigns, accounts, pcs, facts, rates)


# --- building the world ---------------------------------------------------------------------


def wipe() -> None:
    """Every row but the users (one test, many examples; the client stays logged in)."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "users":
            db.session.execute(table.delete())
    db.session.commit()


@dataclass
class Built:
    budget: object
    campaigns: list
    lines: dict[tuple[int, str], object]  # (campaign index, channel) -> line
    goals: dict[tuple[int, str | None], object]


def build(world: World, users) -> Built:
    finance, marketer = users["finance"], users["marketer"]
    budget = BudgetFactory(
        owner=finance,
        start_date=day(world.period[0]),
        end_date=day(world.period[1]),
        total_minor=10**12,
    )
    campaigns, lines, goals = [], {}, {}
    for i, spec in enumerate(world.campaigns):
        campaign = factories.CampaignFactory(
            owner=marketer,
            name=f"Campaign {i}",
            start_date=day(spec.start),
            end_date=day(spec.end),
            channels_csv=",meta_ads,google_ads,influencers,",
            planned_budget_minor=10**11,
            status="active",
        )
        campaigns.append(campaign)
        for channel, planned in spec.lines.items():
            lines[(i, channel)] = LineFactory(
                budget=budget,
                campaign=campaign,
                channel=channel,
                planned_minor=planned,
                status="approved",
                requested_by=marketer,
            )
        for channel in (*ADS, None):  # spend goals over the flight, per channel and in all
            goals[(i, channel)] = factories.GoalFactory(
                campaign=campaign,
                metric="spend",
                direction="at_most",
                baseline=Decimal(0),
                target=Decimal(10**7),
                channel=channel,
                deadline=campaign.end_date,
            )
        _influencers(campaign, spec, users["coordinator"], budget.start_date)
    accounts = []
    for n, (platform, currency) in enumerate(world.accounts):
        account = AdAccount(platform=platform, external_id=f"acct-{n}", currency=currency)
        db.session.add(account)
        accounts.append(account)
    db.session.flush()
    pcs = []
    for n, (a, c) in enumerate(world.pcs):
        pc = PlatformCampaign(
            account_id=accounts[a].id,
            external_id=f"pc-{n}",
            name=f"Platform campaign {n}",
            campaign_id=None if c is None else campaigns[c].id,
            mapping_source="manual" if c is not None else "none",
        )
        db.session.add(pc)
        pcs.append(pc)
    db.session.flush()
    for (p, offset), (minor, conversions) in world.facts.items():
        account = accounts[world.pcs[p][0]]
        db.session.add(
            SpendFact(
                account_id=account.id,
                platform_campaign_id=pcs[p].id,
                level="campaign",
                object_id=pcs[p].external_id,
                day=day(offset),
                currency=account.currency,
                spend_minor=minor,
                impressions=minor // 7,
                clicks=conversions * 3,
                conversions=conversions,
                conversion_value_minor=minor * 2,
            )
        )
    for currency, rates in world.rates.items():
        for offset, rate, inverted in rates:
            base, quote = ("EUR", currency) if inverted else (currency, "EUR")
            stored = (1 / rate).quantize(Decimal("0.00000001")) if inverted else rate
            db.session.add(
                FxRate(day=day(offset), base_currency=base, quote_currency=quote, rate=stored)
            )
    db.session.commit()
    refresh_goals([c.id for c in campaigns])
    db.session.commit()
    return Built(budget, campaigns, lines, goals)


def _influencers(campaign, spec: CampaignSpec, coordinator, start: date) -> None:
    if not spec.milestones:
        return
    influencer = Influencer(name=f"Creator of {campaign.name}")
    db.session.add(influencer)
    db.session.flush()
    partnership = Partnership(
        influencer_id=influencer.id,
        campaign_id=campaign.id,
        owner_id=coordinator.id,
        status="contracted",
        fee_minor=sum(m[1] for m in spec.milestones),  # milestones cover the fee exactly
        currency="EUR",
        start_date=start,
    )
    db.session.add(partnership)
    db.session.flush()
    for n, (status, minor, offset) in enumerate(spec.milestones):
        db.session.add(
            PaymentMilestone(
                partnership_id=partnership.id,
                position=n,
                label=f"Milestone {n}",
                share_bp=max(1, 10_000 * minor // partnership.fee_minor),
                amount_minor=minor,
                currency="EUR",
                status=status,
                due_date=day(offset),
                paid_on=day(offset) if status == "paid" else None,
            )
        )
    db.session.flush()


# --- reading what the user sees ------------------------------------------------------------

MISSING = None  # "missing rate" on a page: no number


def amount(text: str) -> Decimal | None:
    """A shown amount ("€1,234.56", "1234.56", "") as a Decimal; "missing…" as MISSING."""
    text = unescape(re.sub(r"<[^>]+>", "", text)).strip()
    if text.startswith("missing"):
        return MISSING
    digits = re.sub(r"[^\d.\-]", "", text)
    return Decimal(digits) if digits else Decimal(0)


def attr(fragment: str, name: str, default: str = "0") -> Decimal | None:
    found = re.search(rf'{name}="([^"]*)"', fragment)
    return amount(found.group(1) if found else default)


def total(values) -> Decimal | None:
    values = list(values)
    return MISSING if any(v is MISSING for v in values) else sum(values, Decimal(0))


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def budget_page(client, budget, lines) -> tuple[dict, dict]:
    html = page(client, f"/budgets/{budget.id}")
    shown = {}
    for key, line in lines.items():
        row = html.split(f'id="line-{line.id}"')[1].split("</tr>")[0]
        shown[key] = {
            "actual": attr(row, "data-actual"),
            "committed": attr(row, "data-committed"),
            "outside": attr(row, "data-outside"),
        }
    kpi = html.split('data-kpi="spent">')[1].split("</div>")[0]
    totals = {
        "spent": amount(kpi.split('<span class="l">')[0]),
        "outside": attr(kpi, "data-outside"),
    }
    return shown, totals


def finance_row(client) -> dict:
    table = page(client, "/budgets/finance/").split('id="finance-budgets"')[1]
    row = table.split("</tr>", 2)[1]  # the one open budget, after the header row
    return {"spent": attr(row, "data-spent"), "outside": attr(row, "data-outside")}


def export_csv(client, budget) -> tuple[dict, dict]:
    text = page(client, f"/budgets/{budget.id}/export?format=csv")
    return _budget_rows(list(csv.DictReader(io.StringIO(text))))


def export_xlsx(client, budget) -> tuple[dict, dict]:
    response = client.get(f"/budgets/{budget.id}/export?format=xlsx")
    assert response.status_code == 200
    data = response.data
    response.close()  # the download streams from a temporary file
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    records = [
        {k: "" if v is None else str(v) for k, v in zip(header, row, strict=True)} for row in rows
    ]
    return _budget_rows(records)


def _budget_rows(records: list[dict]) -> tuple[dict, dict]:
    """Per campaign × channel: actual, committed, outside summed over months; the TOTAL row.
    An empty money cell is an amount without a rate (fx_status says "missing rate")."""

    def cell(text: str) -> Decimal | None:
        return MISSING if text == "" else amount(text)

    per: dict = defaultdict(lambda: defaultdict(list))
    grand = {}
    for r in records:
        if r["budget"].startswith("TOTAL"):
            grand = {k: cell(r[c]) for k, c in _COLUMNS.items()}
            continue
        for key, column in _COLUMNS.items():
            per[(int(r["campaign_id"]), r["channel"])][key].append(cell(r[column]))
    return {k: {n: total(v) for n, v in sums.items()} for k, sums in per.items()}, grand


_COLUMNS = {"actual": "actual", "committed": "committed", "outside": "outside_flight"}


def performance_page(client, campaign, since: date, until: date) -> dict:
    html = page(client, f"/performance/campaigns/{campaign.id}?since={since}&until={until}")
    channels = {}
    if 'id="channel-spend"' in html:
        table = html.split('id="channel-spend"')[1].split("</table>")[0]
        for channel, row in re.findall(r'<tr data-channel="([^"]+)">(.*?)</tr>', table, re.S):
            channels[channel] = {
                n: attr(row, f"data-{n}", "missing") for n in ("total", "inside", "outside")
            }
    tiles = {
        cur: amount(body.split('data-kpi="spend">')[1].split("</span>")[0])
        for cur, body in re.findall(
            r'data-currency="([A-Z]{3})" data-scope="currency">(.*?)</section>', html, re.S
        )
    }
    combined = None
    if 'data-scope="combined"' in html:
        block = html.split('data-scope="combined"')[1].split("</section>")[0]
        combined = amount(block.split('data-kpi="spend">')[1].split("</span>")[0])
    callout = "absent"
    if 'id="outside-flight"' in html:
        callout = attr(html.split('id="outside-flight"')[1].split("</p>")[0], "data-outside", "")
    goals = {}
    for goal_id, row in re.findall(r'<tr data-goal="(\d+)">(.*?)</tr>', html, re.S):
        current = re.search(r'data-current="([^"]*)"', row).group(1)
        status = re.search(r'data-goal-status="([^"]*)"', row).group(1)
        goals[int(goal_id)] = (Decimal(current) if current else None, status)
    return {
        "channels": channels,
        "tiles": tiles,
        "combined": combined,
        "callout": callout,
        "goals": goals,
    }


def performance_export(client, since: date, until: date) -> dict:
    """(Flightdeck campaign, currency) -> [spend, spend outside the flight] over the rows."""
    response = client.get(f"/performance/export?since={since}&until={until}&format=csv")
    if response.status_code == 302:  # "No synced spend … nothing to export"
        return {}
    sums: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in csv.DictReader(io.StringIO(response.get_data(as_text=True))):
        if r["platform"] == "TOTAL" or not r["flightdeck_campaign"]:
            continue
        s = sums[(r["flightdeck_campaign"], r["currency"])]
        s[0] += Decimal(r["spend"])
        s[1] += Decimal(r["spend_outside_flight"])
    return dict(sums)


def roi_costs(client, campaign) -> dict[str, Decimal]:
    html = page(client, f"/influencers/roi?campaign={campaign.id}")
    if 'id="roi-campaigns"' not in html:
        return {}
    table = html.split('id="roi-campaigns"')[1].split("</table>")[0]
    costs = {}
    for row in re.findall(r"<tr><td>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + row)
        costs[cells[1]] = amount(cells[2])
    return costs


# --- what the generated data says, computed here independently (native currencies) ---------


def native(world: World, c: int, since: int, until: int) -> tuple[dict, dict]:
    """Ad spend of campaign `c` dated in since..until per currency, all and outside the flight."""
    spec = world.campaigns[c]
    every, outside = defaultdict(int), defaultdict(int)
    for (p, offset), (minor, _) in world.facts.items():
        account, campaign = world.pcs[p]
        if campaign != c or not since <= offset <= until:
            continue
        currency = world.accounts[account][1]
        every[currency] += minor
        if not spec.start <= offset <= spec.end:
            outside[currency] += minor
    return dict(every), dict(outside)


def major(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)  # EUR, USD and GBP all have two decimals


# --- the test -------------------------------------------------------------------------------


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_every_surface_shows_the_same_spend_for_the_same_window(client, users, world):
    wipe()
    built = build(world, users)
    login(client, users["finance"])
    since, until = built.budget.start_date, built.budget.end_date
    lines, budget_totals = budget_page(client, built.budget, built.lines)
    by_csv, csv_total = export_csv(client, built.budget)
    by_xlsx, xlsx_total = export_xlsx(client, built.budget)
    exported = performance_export(client, since, until)

    # The budget export says what the budget page says, line by line, in CSV and in XLSX.
    for c, channel in built.lines:
        key = (built.campaigns[c].id, channel)
        assert by_csv[key] == lines[(c, channel)], (key, by_csv[key], lines[(c, channel)])
        assert by_xlsx[key] == by_csv[key]
    assert xlsx_total == csv_total

    for c, campaign in enumerate(built.campaigns):
        spec = world.campaigns[c]
        shown = performance_page(client, campaign, since, until)
        every, outside = native(world, c, world.period[0], world.period[1])
        # Native amounts: the data itself, the page's tiles and export performance agree.
        assert shown["tiles"] == {k: major(v) for k, v in every.items()}
        assert {cur for name, cur in exported if name == campaign.name} == set(every)
        for currency, minor in every.items():
            assert exported[(campaign.name, currency)] == [
                major(minor),
                major(outside.get(currency, 0)),
            ]
        channels = shown["channels"]
        for split in channels.values():  # in the flight + outside it = all of it
            if split["total"] is not MISSING:
                assert split["inside"] + split["outside"] == split["total"]
        # Per channel adds up to the campaign; the outside callout to the channels' parts.
        if shown["combined"] is not None:
            assert shown["combined"] == total(s["total"] for s in channels.values())
        elif set(every) == {"EUR"}:
            assert shown["tiles"]["EUR"] == total(s["total"] for s in channels.values())
        if any(outside.values()):
            assert shown["callout"] == total(s["outside"] for s in channels.values())
        else:
            assert shown["callout"] == "absent"
        # A budget line's actual is the performance page's in-flight spend of its channel,
        # its "outside the flight" the page's outside part, missing rate on both or neither.
        for channel in ADS:
            if (c, channel) not in built.lines:
                continue
            line = lines[(c, channel)]
            split = channels.get(channel, {"inside": 0, "outside": 0})
            assert line["actual"] == split["inside"], (channel, line, split)
            assert line["outside"] == split["outside"], (channel, line, split)
            assert line["committed"] == 0
        # Influencer lines: paid = actual, pending or payable = committed; ROI counts both.
        paid = sum(m for s, m, _ in spec.milestones if s == "paid")
        owed = sum(m for s, m, _ in spec.milestones if s != "paid")
        if (c, "influencers") in built.lines:
            line = lines[(c, "influencers")]
            assert (line["actual"], line["committed"]) == (major(paid), major(owed))
            assert line["outside"] == 0
        assert roi_costs(client, campaign) == ({"EUR": major(paid + owed)} if paid + owed else {})

        # Goal progress (window: the flight) is the performance page's spend over the flight.
        flight = performance_page(client, campaign, campaign.start_date, campaign.end_date)
        for channel in (*ADS, None):
            goal = built.goals[(c, channel)]
            current, status = flight["goals"][goal.id]
            if channel is None:
                splits = list(flight["channels"].values())
            else:
                splits = [flight["channels"][channel]] if channel in flight["channels"] else []
            if not splits:
                assert (current, status) == (None, "")  # no data yet
                continue
            inside = total(s["inside"] for s in splits)
            if inside is MISSING:
                assert (current, status) == (None, "missing_rate")
            else:
                assert current == inside and status in ("on_track", "at_risk", "achieved")

    # The budget adds up: its lines, its page, the finance dashboard, the export's totals.
    actual = total(v["actual"] for v in lines.values())
    committed = total(v["committed"] for v in lines.values())
    spent = MISSING if MISSING in (actual, committed) else actual + committed
    outside_all = total(v["outside"] for v in lines.values())
    assert budget_totals == {"spent": spent, "outside": outside_all}
    assert finance_row(client) == {"spent": spent, "outside": outside_all}
    assert (csv_total["actual"], csv_total["committed"], csv_total["outside"]) == (
        actual,
        committed,
        outside_all,
    )

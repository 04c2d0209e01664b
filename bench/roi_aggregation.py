"""ROI aggregation over 1M facts beside the bare SQL GROUP BY of the same numbers.

Engine path = `analytics.services.facts_frame(by_day=False)` (integer sums per platform
campaign in SQL) + `analytics.roi.summarise` by campaign × channel with Decimal ratios.
Reference = one SQL GROUP BY campaign × channel × currency returning the sums.
"""

from __future__ import annotations

import io
import os
import random
from datetime import date, timedelta

from sqlalchemy import text

from bench.common import bench_app, best_of, fresh_database

N_FACTS = int(os.environ.get("BENCH_ROI_FACTS", "1000000"))
CAMPAIGNS = 40
ADS_PER_CAMPAIGN = 25


def _load(conn_url_app) -> None:
    from core.extensions import db

    rnd = random.Random(7)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, name, role, active, session_token, created_at, updated_at)"
                " VALUES ('bench@x.test', 'Bench', 'marketer', true, 't', now(), now())"
            )
        )
        for c in range(1, CAMPAIGNS + 1):
            conn.execute(
                text(
                    "INSERT INTO campaigns (id, name, objective, channels, brand, product, description,"
                    " owner_id, start_date, end_date, currency, planned_budget_minor, status,"
                    " created_at, updated_at) VALUES (:id, :n, 'sales', ',meta_ads,', '', '', '', 1,"
                    " '2025-01-01', '2026-12-31', 'EUR', 0, 'active', now(), now())"
                ),
                {"id": c, "n": f"Campaign {c}"},
            )
        platforms = ["meta_ads", "google_ads", "tiktok_ads"]
        for a, plat in enumerate(platforms, 1):
            conn.execute(
                text(
                    "INSERT INTO ad_accounts (id, platform, external_id, name, currency, timezone,"
                    " status, status_reason, backfill_days, created_at, updated_at) VALUES"
                    " (:id, :p, :e, '', :cur, 'UTC', 'active', '', 90, now(), now())"
                ),
                {"id": a, "p": plat, "e": f"acct-{a}", "cur": "EUR" if a != 2 else "USD"},
            )
        pcs = []
        for c in range(1, CAMPAIGNS + 1):
            account = (c % 3) + 1
            conn.execute(
                text(
                    "INSERT INTO platform_campaigns (id, account_id, external_id, name, status,"
                    " objective, campaign_id, mapping_source, created_at, updated_at) VALUES"
                    " (:id, :a, :e, :n, '', '', :c, 'tag', now(), now())"
                ),
                {"id": c, "a": account, "e": f"pc-{c}", "n": f"PC {c}", "c": c},
            )
            pcs.append((c, account, "EUR" if account != 2 else "USD"))
        days_needed = N_FACTS // (CAMPAIGNS * ADS_PER_CAMPAIGN) + 1
        start = date(2025, 1, 1)
        buf = io.StringIO()
        written = 0
        for pc_id, account, cur in pcs:
            for ad in range(ADS_PER_CAMPAIGN):
                for d in range(days_needed):
                    if written >= N_FACTS:
                        break
                    spend = rnd.randint(100, 30000)
                    imps = rnd.randint(100, 20000)
                    clicks = rnd.randint(0, imps // 20)
                    conv = rnd.randint(0, max(1, clicks // 10))
                    buf.write(
                        f"{account}\t{pc_id}\tad\tad-{pc_id}-{ad}\t\t\t{start + timedelta(d)}\t"
                        f"7d_click_1d_view\t{cur}\t{spend}\t{imps}\t{clicks}\t{imps // 2}\t"
                        f"{conv}\t0\t{conv}\t{conv * rnd.randint(2000, 9000)}\t2026-01-01\n"
                    )
                    written += 1
        raw = conn.connection.dbapi_connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY spend_facts (account_id, platform_campaign_id, level, object_id, adset_id,"
                " object_name, day, attribution_setting, currency, spend_minor, impressions, clicks,"
                " reach, purchases, leads, conversions, conversion_value_minor, updated_at)"
                " FROM STDIN"
            ) as copy,
        ):
            copy.write(buf.getvalue())
        conn.execute(text("ANALYZE spend_facts"))


REFERENCE_SQL = text(
    "SELECT pc.campaign_id, a.platform, f.currency, sum(f.spend_minor), sum(f.impressions),"
    " sum(f.clicks), sum(f.conversions), sum(f.conversion_value_minor)"
    " FROM spend_facts f JOIN platform_campaigns pc ON pc.id = f.platform_campaign_id"
    " JOIN ad_accounts a ON a.id = f.account_id"
    " GROUP BY pc.campaign_id, a.platform, f.currency"
)


def main() -> dict:
    from analytics.roi import summarise
    from analytics.services import facts_frame
    from core.extensions import db

    app = bench_app(fresh_database("flightdeck_bench_roi"))
    with app.app_context():
        _load(app)
        count = db.session.execute(text("SELECT count(*) FROM spend_facts")).scalar_one()

        def engine():
            frame = facts_frame(by_day=False)
            return summarise(frame, by=["campaign_id", "channel"])

        def reference():
            return db.session.execute(REFERENCE_SQL).all()

        ref_s, ref_rows = best_of(3, reference)
        eng_s, out = best_of(3, engine)
        # Same numbers both ways.
        ref_sums = {(r[0], r[1], r[2]): int(r[3]) for r in ref_rows}
        eng_sums = {
            (r["campaign_id"], r["channel"], r["currency"]): int(r["spend_minor"])
            for r in out.to_dict("records")
        }
        assert ref_sums == eng_sums, "engine and SQL disagree"
        db.engine.dispose()
    result = {
        "facts": count,
        "reference_s": round(ref_s, 3),
        "engine_s": round(eng_s, 3),
        "ratio": round(eng_s / ref_s, 2),
    }
    print(
        f"| ROI aggregation, {count:,} facts | SQL GROUP BY {ref_s:.3f} s | "
        f"engine {eng_s:.3f} s | engine/reference {eng_s / ref_s:.2f}× |"
    )
    return result


if __name__ == "__main__":
    main()

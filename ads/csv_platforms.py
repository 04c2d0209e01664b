"""What each platform's daily campaign export calls its columns, and what tells them apart.

Header cells are compared after `norm()`: case-folded, letters and digits only, so "Impr." is
"impr", "Start Date (in UTC)" is "startdateinutc" and "Währungscode" keeps its "ä". A trailing
"(USD)" is read as the currency of the column and dropped first. Within a field the first alias
a file has wins, so the export's usual name comes first and looser names last.

Sources: the platforms' UI downloads (Google Ads "Download → CSV / Excel CSV" of a report
segmented by Day, in English and the UI's language; TikTok Ads Manager custom reports by day;
LinkedIn Campaign Manager "Campaign performance" exports), Google Ads scripts / report editor
files (`segments.date`, `metrics.cost_micros`) and the platforms' API field names.
"""

from __future__ import annotations

import re

PLATFORM_LABELS = {
    "google_ads": "Google Ads",
    "tiktok_ads": "TikTok Ads",
    "linkedin_ads": "LinkedIn Ads",
}
HOW_TO_EXPORT = {
    "google_ads": (
        "In Google Ads open Campaigns, choose Segment → Time → Day, then Download → CSV "
        "(or Excel CSV)."
    ),
    "tiktok_ads": (
        "In TikTok Ads Manager create a custom report with the dimensions Campaign and Day "
        "(By Day), then export it as CSV."
    ),
    "linkedin_ads": (
        "In Campaign Manager open Campaigns, click Export, choose Campaign performance with "
        "Time breakdown: Daily, and download the CSV."
    ),
}

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "google_ads": {
        "day": ("day", "date", "segmentsdate", "tag", "datum", "jour", "día", "dia"),
        "spend": ("cost", "spend", "kosten", "coût", "cout", "coste", "costo", "custo"),
        # Google Ads scripts, the API and report editor files give cost in millionths.
        "spend_micros": ("costmicros", "metricscostmicros"),
        "campaign": ("campaign", "campaignname", "kampagne", "campagne", "campaña", "campanha"),
        "campaign_id": (
            "campaignid",
            "kampagnenid",
            "iddelacampagne",
            "iddecampagne",
            "iddecampaña",
            "iddacampanha",
        ),
        "status": ("campaignstatus", "campaignstate", "status", "kampagnenstatus"),
        "currency": (
            "currencycode",
            "currency",
            "customercurrencycode",
            "währungscode",
            "währung",
            "codedeladevise",
            "devise",
            "códigodemoneda",
            "moneda",
        ),
        "account_id": ("customerid", "accountid", "externalcustomerid", "kundenid"),
        "account_name": (
            "account",
            "accountname",
            "customername",
            "customerdescriptivename",
            "konto",
            "kontoname",
            "compte",
            "cuenta",
        ),
        "impressions": ("impr", "impressions", "metricsimpressions", "impressionen"),
        "clicks": ("clicks", "metricsclicks", "klicks", "clics", "cliques"),
        "conversions": (
            "conversions",
            "conv",
            "metricsconversions",
            "conversiones",
            "conversões",
            "konversionen",
            "allconv",
            "allconversions",
        ),
        "conversion_value": (
            "convvalue",
            "conversionvalue",
            "conversionsvalue",
            "metricsconversionsvalue",
            "totalconvvalue",
            "convwert",
            "conversionwert",
            "valeurdeconv",
            "valordeconv",
            "allconvvalue",
            "allconversionvalue",
        ),
    },
    "tiktok_ads": {
        "day": (
            "date",
            "byday",
            "day",
            "stattimeday",
            "statdate",
            "time",
            # Hourly rows carry the day in front of the hour; they are summed per day.
            "byhour",
            "stattimehour",
        ),
        "spend": ("cost", "totalcost", "spend"),
        "campaign": ("campaignname", "campaign"),
        "campaign_id": ("campaignid",),
        "status": ("primarystatus", "campaignstatus", "status"),
        "currency": ("currency", "currencycode"),
        "account_id": ("advertiserid", "accountid"),
        "account_name": ("advertisername", "accountname", "account"),
        "impressions": ("impressions", "impression"),
        "clicks": ("clicksdestination", "clicks", "clicksall"),
        "conversions": ("conversions", "conversion", "purchases", "completepayment", "purchase"),
        "conversion_value": (
            "totalcompletepayment",
            "completepaymentvalue",
            "totalcompletepaymentvalue",
            "totalpurchasevalue",
            "purchasevalue",
            "totalpurchasevaluewebsite",
            "conversionvalue",
            "totalconversionvalue",
        ),
        "reach": ("reach",),
    },
    # English, then the Portuguese export (UTF-16, tabs: "Data de início (em UTC)",
    # "Total investido", "Código da campanha"…).
    "linkedin_ads": {
        "day": ("startdateinutc", "startdate", "date", "day", "datadeinícioemutc"),
        # Daily rows have the same end date; another end date means the row is not one day.
        "end_day": ("enddateinutc", "enddate", "datadetérminoemutc"),
        "spend": (
            "totalspent",
            "totalspentinlocalcurrency",
            "amountspent",
            "costinlocalcurrency",
            "spend",
            "cost",
            "totalinvestido",
        ),
        # Total Spent over Average Daily Spend is the number of days a row covers.
        "daily_spend": ("averagedailyspend", "médiadeinvestimentodiário"),
        "campaign": ("campaignname", "campaign", "nomedacampanha"),
        "campaign_id": ("campaignid", "códigodacampanha"),
        "status": ("campaignstatus", "status", "statusdacampanha"),
        "currency": ("currency", "currencycode", "moeda"),
        "account_id": ("accountid", "códigodaconta"),
        "account_name": ("accountname", "account", "nomedaconta"),
        "impressions": ("impressions", "impressões"),
        "clicks": ("clicks", "cliques"),
        "conversions": (
            "conversions",
            "totalconversions",
            "conversionspostclick",
            "postclickconversions",
            "conversões",
        ),
        "conversion_value": ("totalconversionvalue", "conversionvalue", "valortotaldaconversão"),
        "leads": ("leads",),
        "reach": ("reach", "approximatememberreach", "alcance"),
    },
}
# The day order of a platform's English exports when no value tells: LinkedIn Campaign
# Manager writes "11/5/2026" (US); Google Ads' English UI follows the user's locale (US or UK)
# and TikTok writes ISO dates, so neither says anything.
PLATFORM_DATE_ORDER = {"linkedin_ads": "mdy"}
# Day columns whose numeric dates are M/D/YYYY unless the values say otherwise; a day column
# named in another language means D/M/YYYY when the values cannot tell.
ENGLISH_DAY_COLUMNS = frozenset(
    {"day", "date", "segmentsdate", "byday", "stattimeday", "statdate", "time", "byhour"}
    | {"stattimehour", "startdateinutc", "startdate"}
)
# Columns only one platform's exports have: they tell a file given for the wrong platform.
SIGNATURES: dict[str, frozenset[str]] = {
    "google_ads": frozenset(
        {"impr", "convvalue", "allconvvalue", "customerid", "currencycode", "avgcpc", "costconv"}
        | {"campaignstate", "searchimprshare", "interactions", "convrate", "campaignreport"}
        | {"segmentsdate", "metricscostmicros", "costmicros", "währungscode", "kampagnenid"}
    ),
    "tiktok_ads": frozenset(
        {"clicksdestination", "ctrdestination", "cpcdestination", "totalcompletepayment", "byday"}
        | {"completepayment", "completepaymentvalue", "advertiserid", "advertisername"}
        | {"totalcost", "primarystatus", "totalpurchasevalue", "stattimeday"}
    ),
    "linkedin_ads": frozenset(
        {"startdateinutc", "enddateinutc", "totalspent", "campaigngroupname", "campaigngroupid"}
        | {"totalconversionvalue", "conversionspostclick", "conversionsviewthrough"}
        | {"totalengagements", "campaignperformancereportinutc", "campaignperformancereport"}
        | {"averagedailyspend", "datadeinícioemutc", "totalinvestido", "nomedogrupodecampanhas"}
    ),
    "meta_ads": frozenset({"reportingstarts", "reportingends", "adsetname", "resultindicator"}),
    # Microsoft Advertising's UI export looks like Google's ("Impr.", "Avg. CPC", "Conv.").
    "microsoft_ads": frozenset(
        {"gregoriandate", "reportaggregationdaily", "lastcompletedavailableday", "accountnumber"}
        | {"topimprrate", "abstopimprrate", "searchtotal", "audiencetotal"}
    ),
}
FOREIGN_LABELS = {**PLATFORM_LABELS, "meta_ads": "Meta Ads", "microsoft_ads": "Microsoft Ads"}
# Platforms whose files are never imported here, and why.
NOT_IMPORTED = {
    "meta_ads": "Meta ad accounts are synced, not imported.",
    "microsoft_ads": "Microsoft Advertising files cannot be imported into Flightdeck.",
}
COLUMN_LABELS = {
    "day": "Date",
    "spend": "Cost",
    "campaign": "Campaign",
    "campaign_id": "Campaign ID",
    "currency": "Currency",
}

# A report by week or month has one of these instead of a day column.
PERIODS = {
    "week": "weekly",
    "byweek": "weekly",
    "month": "monthly",
    "bymonth": "monthly",
    "quarter": "quarterly",
    "year": "yearly",
    "woche": "weekly",
    "monat": "monthly",
    "semaine": "weekly",
    "mois": "monthly",
    "semana": "weekly",
    "mes": "monthly",
}

# Which header names are metrics (numbers that two rows of one campaign-day may differ in) as
# opposed to dimensions (what tells two such rows apart: network, device, ad group, hour…).
# Two rows that agree on every dimension are the same row twice, not two segments.
_DIMENSION_WORDS = re.compile(
    r"action|name|type|status|state|id$|network|device|hour|day|date|week|month|category|"
    r"goal|objective|placement|keyword|group|^ad$|creative|source|country|region|currency|"
    r"account|campaign$|label|segment|slot|format|^tag$"
)
_METRIC_WORDS = re.compile(
    r"impr|click|cost|spend|spent|conv|value|ctr|cpc|cpm|cpa|cpv|cvr|roas|rate|reach|freq|"
    r"view|engagement|interaction|lead|result|payment|purchase|revenue|like|comment|share|"
    r"follow|budget|play|watch|install|send|open|return|wert|kosten|coût|klick|clic"
)


def is_metric_header(name: str) -> bool:
    """Whether a normalised header names a metric rather than a dimension."""
    return bool(_METRIC_WORDS.search(name)) and not _DIMENSION_WORDS.search(name)

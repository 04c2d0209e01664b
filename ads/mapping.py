"""Platform campaigns mapped to Flightdeck campaigns: the naming rule, manual choices, and
the object rule that spend only moves on or off campaigns the acting user may edit.

Syncs and the CLI (without --as-user) act as the system and may map anything. A person (an
upload, the account page) acts with `MapRights(user)`: the campaigns `campaign.edit` allows
(owner, or admin). A naming-rule match outside those is *held*: left unmapped, and no later
automatic rule maps it; the campaign's owner or an admin maps it by hand.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from ads.errors import AdsError
from ads.models import AdAccount, MappingSource, PlatformCampaign
from campaigns.models import Campaign
from core.extensions import db
from core.permissions import can
from core.types import utcnow

TAG_RE = re.compile(r"\[FD-(\d{1,9})\]", re.IGNORECASE)


class MapRights:
    """Which Flightdeck campaigns spend may be put on or taken off: those the user may edit
    (`campaign.edit`: the owner, or an admin), or every campaign for the system (syncs, the
    CLI without --as-user). One instance per import or request; answers are cached."""

    def __init__(self, user: Any = None) -> None:
        self.user = user
        self._allowed: dict[int, bool] = {}

    @property
    def is_system(self) -> bool:
        return self.user is None

    def allows(self, campaign_id: int | None) -> bool:
        if campaign_id is None or self.user is None:
            return True
        if campaign_id not in self._allowed:
            campaign = db.session.get(Campaign, campaign_id)
            self._allowed[campaign_id] = campaign is not None and can(
                "campaign.edit", campaign, user=self.user
            )
        return self._allowed[campaign_id]


SYSTEM = MapRights()


class CampaignIndex:
    """Every campaign's id and name, read once for a whole import: the naming rule for
    thousands of platform campaigns without two queries each."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.by_name: dict[str, int] = {}
        rows = db.session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.id))
        for campaign_id, name in rows:
            self.ids.add(campaign_id)
            self.by_name.setdefault((name or "").lower(), campaign_id)

    def rule(self, name: str) -> tuple[int | None, str]:
        tag = TAG_RE.search(name or "")
        if tag and int(tag.group(1)) in self.ids:
            return int(tag.group(1)), MappingSource.TAG.value
        match = self.by_name.get((name or "").strip().lower())
        if match:
            return match, MappingSource.NAME.value
        return None, MappingSource.NONE.value


def naming_rule(name: str, index: CampaignIndex | None = None) -> tuple[int | None, str]:
    """Naming rule: a "[FD-<id>]" tag wins; else an exact (case-insensitive) name match."""
    if index is not None:
        return index.rule(name)
    tag = TAG_RE.search(name or "")
    if tag:
        campaign_id = int(tag.group(1))
        if db.session.get(Campaign, campaign_id) is not None:
            return campaign_id, MappingSource.TAG.value
    match = db.session.scalar(
        select(Campaign.id).where(func.lower(Campaign.name) == (name or "").strip().lower())
    )
    if match:
        return match, MappingSource.NAME.value
    return None, MappingSource.NONE.value


def auto_campaign_for(
    name: str, rights: MapRights = SYSTEM, index: CampaignIndex | None = None
) -> tuple[int | None, str]:
    """The naming rule, within `rights`: a match the user may not edit is held back unmapped
    (never a fallback to another match: the tag says where the spend belongs)."""
    campaign_id, source = naming_rule(name, index)
    if not rights.allows(campaign_id):
        return None, MappingSource.HELD.value
    return campaign_id, source


def held_reason(pc: PlatformCampaign) -> str:
    """Why a held platform campaign is unmapped, in words for its account page."""
    campaign_id, source = naming_rule(pc.name)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        return "held back at import; its name no longer points at a campaign"
    how = "tag" if source == MappingSource.TAG.value else "name"
    return (
        f"its {how} points at “{campaign.name}”, which the person who imported it may not "
        "edit: the campaign's owner or an admin can map it here"
    )


def held_note(pc: PlatformCampaign, rights: MapRights) -> str:
    """What an import says about a held platform campaign it brought rows for."""
    campaign_id, _source = naming_rule(pc.name)
    if campaign_id is not None and rights.allows(campaign_id) and not rights.is_system:
        campaign = db.session.get(Campaign, campaign_id)
        return (
            f"“{pc.name}” ({pc.external_id}) stays unmapped: it was held back from "
            f"“{campaign.name}” when someone who may not edit that campaign imported it. You "
            "may map it on the account page."
        )
    return f"“{pc.name}” ({pc.external_id}) is imported unmapped: {held_reason(pc)}."


def mapping_refusal(pc: PlatformCampaign, rights: MapRights) -> str | None:
    """Why `rights` may not change this platform campaign's spend (None: it may)."""
    if rights.allows(pc.campaign_id):
        return None
    campaign = db.session.get(Campaign, pc.campaign_id)
    name = campaign.name if campaign is not None else f"#{pc.campaign_id}"
    return (
        f"“{pc.name}” is mapped to the Flightdeck campaign “{name}”, which you may not edit: "
        "only its owner or an admin can change that spend"
    )


def upsert_platform_campaign(
    account: AdAccount,
    external_id: str,
    name: str,
    status: str = "",
    objective: str = "",
    rights: MapRights = SYSTEM,
) -> PlatformCampaign:
    """Create or refresh a platform campaign; automatic mappings follow the naming rule
    within `rights`. Manual and held mappings are left as they are. Callers check
    `mapping_refusal` first when `rights` is a user's."""
    pc = db.session.scalar(
        select(PlatformCampaign).where(
            PlatformCampaign.account_id == account.id, PlatformCampaign.external_id == external_id
        )
    )
    if pc is None:
        pc = PlatformCampaign(account_id=account.id, external_id=external_id)
        db.session.add(pc)
    refresh_platform_campaign(pc, name, status, objective, rights)
    db.session.flush()
    return pc


def refresh_platform_campaign(
    pc: PlatformCampaign,
    name: str,
    status: str = "",
    objective: str = "",
    rights: MapRights = SYSTEM,
    index: CampaignIndex | None = None,
) -> None:
    """A platform campaign's latest name and status, its automatic mapping re-applied within
    `rights` (manual and held mappings stay). Does not flush."""
    if name and pc.name != name:
        pc.name = name[:400]
    if status:
        pc.status = status[:40]
    if objective:
        pc.objective = objective[:60]
    pc.last_seen_at = utcnow()
    if pc.mapping_source not in (MappingSource.MANUAL.value, MappingSource.HELD.value):
        campaign_id, source = auto_campaign_for(pc.name, rights, index)
        if (pc.campaign_id, pc.mapping_source) != (campaign_id, source):
            pc.campaign_id, pc.mapping_source = campaign_id, source


def map_manually(pc: PlatformCampaign, campaign_id: int | None) -> None:
    """Manual override by the system; "automatic" (None) re-applies the naming rule."""
    if campaign_id is None:
        pc.campaign_id, pc.mapping_source = auto_campaign_for(pc.name)
        return
    if db.session.get(Campaign, campaign_id) is None:
        raise AdsError("Choose an existing Flightdeck campaign.", "campaign_id")
    pc.campaign_id = campaign_id
    pc.mapping_source = MappingSource.MANUAL.value


def change_mapping(pc: PlatformCampaign, choice: str, rights: MapRights) -> str:
    """A person's choice on the account page: "" automatic, "none", or a campaign id.

    Spend moves only off and onto campaigns `rights` may edit; raises AdsError otherwise
    (nothing changed). Returns what happened, in words.
    """
    refusal = mapping_refusal(pc, rights)
    if refusal:
        raise AdsError(refusal + ".", "campaign_id")
    choice = (choice or "").strip()
    if choice == "":
        pc.campaign_id, pc.mapping_source = auto_campaign_for(pc.name, rights)
        if pc.mapping_source == MappingSource.HELD.value:
            return f"“{pc.name}” stays unmapped: {held_reason(pc)}."
    elif choice == "none":
        pc.campaign_id, pc.mapping_source = None, MappingSource.MANUAL.value
    elif choice.isdigit() and len(choice) < 10:
        campaign_id = int(choice)
        if db.session.get(Campaign, campaign_id) is None:
            raise AdsError("Choose an existing Flightdeck campaign.", "campaign_id")
        if not rights.allows(campaign_id):
            raise AdsError(
                "You may map spend only to campaigns you own (or, as an admin, to any).",
                "campaign_id",
            )
        pc.campaign_id, pc.mapping_source = campaign_id, MappingSource.MANUAL.value
    else:
        raise AdsError("Choose a campaign from the list.", "campaign_id")
    return f"“{pc.name}” mapping saved."


def remap_all() -> int:
    """Re-apply the naming rule to every automatic mapping (e.g. after a campaign is
    created); manual and held mappings stay."""
    changed = 0
    rows = db.session.scalars(
        select(PlatformCampaign).where(
            PlatformCampaign.mapping_source.not_in(
                (MappingSource.MANUAL.value, MappingSource.HELD.value)
            )
        )
    )
    for pc in rows:
        campaign_id, source = auto_campaign_for(pc.name)
        if (pc.campaign_id, pc.mapping_source) != (campaign_id, source):
            pc.campaign_id, pc.mapping_source = campaign_id, source
            changed += 1
    return changed

"""Influencer pages (filled in by the influencers issue)."""

from flask import Blueprint

bp = Blueprint("influencers", __name__, url_prefix="/influencers")

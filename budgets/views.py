"""Budget pages (filled in by the budgets issue)."""

from flask import Blueprint

bp = Blueprint("budgets", __name__, url_prefix="/budgets")

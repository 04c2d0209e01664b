"""Influencer roster, partnerships, deliverables, payments, tracking and influencer ROI."""

"""Campaigns, SMART goals and the flight calendar."""

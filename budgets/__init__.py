"""Budgets, allocations, approvals, FX rates, pacing and finance exports."""

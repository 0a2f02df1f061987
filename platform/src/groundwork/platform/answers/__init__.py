"""Grounded answers: citation parsing and claim-by-claim verification against the cited sources."""

"""Evaluation harnesses: they ingest and query through the same paths users use."""

"""Names of tasks, so producers enqueue work without importing the code that runs it."""

PROCESS_BATCH = "ingestion.process_batch"
"""Payload: {"datastore_id": str, "document_ids": [str, ...]}."""

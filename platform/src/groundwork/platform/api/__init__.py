"""The REST API (FastAPI). Routes are thin; behaviour lives in platform services."""

"""Ingestion: parse documents, chunk them by structure, embed and index them."""

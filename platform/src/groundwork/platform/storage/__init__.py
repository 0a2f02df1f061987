"""Blob stores: where uploaded document bytes and extracted text live."""

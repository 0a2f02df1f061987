"""Parsers turn bytes of one format into a `ParsedDocument`: text plus structural blocks."""

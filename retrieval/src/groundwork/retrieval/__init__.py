"""Retrieval: embeddings, dense (FAISS) and lexical (BM25) indexes, hybrid fusion.

A leaf package: it imports no other groundwork area and no web, queue or cloud SDK.
"""

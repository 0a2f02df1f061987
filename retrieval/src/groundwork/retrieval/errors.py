"""Errors raised by the retrieval area. Adapters translate vendor exceptions into these."""


class RetrievalError(Exception):
    """Base class of every retrieval error."""


class IndexCorruptedError(RetrievalError):
    """An index on disk does not match its manifest; it must be rebuilt before it can serve."""


class IndexNotFoundError(RetrievalError):
    """No index exists at the given location."""


class EmbedderNotReadyError(RetrievalError):
    """`warm_up()` was not called before the embedder was used."""


class InvalidQueryError(RetrievalError):
    """A query or filter cannot be executed as given."""

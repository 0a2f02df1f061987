"""Errors of the model store. One base class; the CLI prints `code` and the message."""

from __future__ import annotations

from groundwork.platform.errors import PlatformError


class ModelStoreError(PlatformError):
    """Base class of every model store error."""

    code = "model_store_error"


class InvalidModelUriError(ModelStoreError):
    """Not a `gs://bucket/prefix` URI."""

    code = "invalid_model_uri"


class InvalidModelDirectoryError(ModelStoreError):
    """A directory that cannot be published: missing, no `config.json`, no safetensors."""

    code = "invalid_model_directory"


class ModelNotFoundError(ModelStoreError):
    """No manifest at the URI: nothing was published there (or the push did not finish)."""

    code = "model_not_found"


class ManifestError(ModelStoreError):
    """A manifest that cannot be read or does not describe a model (wrong version, missing fields)."""

    code = "invalid_manifest"


class ChecksumMismatchError(ModelStoreError):
    """A file or object whose size or checksum differs from the manifest: corrupt, truncated or replaced."""

    code = "checksum_mismatch"


class ModelExistsError(ModelStoreError):
    """A different model is already published at the URI (models are immutable unless overwritten on purpose)."""

    code = "model_exists"


class TransferError(ModelStoreError):
    """Cloud Storage failed (unreachable, denied, missing bucket)."""

    code = "storage_error"

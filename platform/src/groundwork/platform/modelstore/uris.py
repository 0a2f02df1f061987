"""`gs://bucket/prefix` model URIs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from groundwork.platform.modelstore.errors import InvalidModelUriError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class GcsUri:
    """A model's location: every file of the model is an object `<prefix>/<relative path>` in `bucket`."""

    bucket: str
    prefix: str
    """No leading or trailing `/`; empty for a model at the root of the bucket."""

    @classmethod
    def parse(cls, uri: str) -> GcsUri:
        if not uri.startswith("gs://"):
            raise InvalidModelUriError(f"{uri!r} is not a Cloud Storage URI (gs://bucket/prefix)")
        bucket, _, prefix = uri[len("gs://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise InvalidModelUriError(f"{uri!r}: {bucket!r} is not a valid bucket name")
        prefix = prefix.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise InvalidModelUriError(f"{uri!r}: the prefix has an empty, '.' or '..' segment")
        return cls(bucket=bucket, prefix=prefix)

    def object_name(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def folder(self) -> str:
        """The object name prefix every file of the model starts with."""
        return f"{self.prefix}/" if self.prefix else ""

    @property
    def name(self) -> str:
        """A short name: the last prefix segment (or the bucket)."""
        return self.prefix.rsplit("/", 1)[-1] if self.prefix else self.bucket

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}" if self.prefix else f"gs://{self.bucket}"

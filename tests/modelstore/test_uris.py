from __future__ import annotations

import pytest

from groundwork.platform.modelstore.errors import InvalidModelUriError
from groundwork.platform.modelstore.uris import GcsUri


def test_parse_splits_bucket_and_prefix() -> None:
    uri = GcsUri.parse("gs://acme-models/llama/3.1-8b/")
    assert (uri.bucket, uri.prefix, uri.name) == ("acme-models", "llama/3.1-8b", "3.1-8b")
    assert uri.object_name("config.json") == "llama/3.1-8b/config.json"
    assert str(uri) == "gs://acme-models/llama/3.1-8b"
    root = GcsUri.parse("gs://acme-models")
    assert (root.prefix, root.folder, root.object_name("a")) == ("", "", "a")


@pytest.mark.parametrize(
    "bad",
    [
        "s3://bucket/x",
        "/local/dir",
        "gs://",
        "gs://UPPER/x",
        "gs://bucket/../x",
        "gs://bucket/a//b",
        "gs://bucket/./c",
        "gs://a",
    ],
)
def test_invalid_uris_are_refused(bad: str) -> None:
    with pytest.raises(InvalidModelUriError):
        GcsUri.parse(bad)

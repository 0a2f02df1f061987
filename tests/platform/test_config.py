from pathlib import Path

import pytest

from groundwork.platform.config import Settings, configuration_reference

REPO = Path(__file__).resolve().parents[2]


def test_environment_is_read_with_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", "/srv/groundwork")
    monkeypatch.setenv("GROUNDWORK_INGESTION__MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("GROUNDWORK_RETRIEVAL__FUSION", "rrf")
    settings = Settings()
    assert settings.data_dir == Path("/srv/groundwork")
    assert settings.ingestion.max_upload_bytes == 1234
    assert settings.retrieval.fusion == "rrf"
    assert settings.database_url() == "sqlite:////srv/groundwork/groundwork.db"


def test_every_setting_is_documented_and_the_reference_is_current() -> None:
    reference = configuration_reference()
    assert "| `GROUNDWORK_INGESTION__MAX_UPLOAD_BYTES` | `52428800` |" in reference
    for line in reference.splitlines():
        if line.startswith("| `GROUNDWORK_"):
            assert line.rstrip().split("|")[-2].strip(), f"undocumented: {line}"
    assert (REPO / "docs" / "configuration.md").read_text() == reference + "\n", (
        "docs/configuration.md is stale: run `groundwork config --reference > docs/configuration.md`"
    )

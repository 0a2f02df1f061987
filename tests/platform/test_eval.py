"""`groundwork eval retrieval` on a small real subset of SciFact, through the same ingest path users use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import shared_data

pytestmark = pytest.mark.slow


def test_eval_retrieval_reports_every_mode_and_finds_the_judged_documents(tmp_path: Path) -> None:
    scifact = shared_data("beir-scifact")
    out = tmp_path / "report.json"
    env = {**os.environ, "GROUNDWORK_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    command = [
        str(Path(sys.executable).with_name("groundwork")),
        "eval",
        "retrieval",
        "--beir",
        str(scifact),
        "--split",
        "test",
        "--limit-docs",
        "60",
        "--out",
        str(out),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["documents"] == 60 and report["queries"] > 0
    scores = {row["mode"]: row for row in report["results"]}
    assert set(scores) == {"dense", "lexical", "hybrid"}
    for row in scores.values():
        assert 0.0 <= row["ndcg_at_10"] <= 1.0 and row["recall_at_100"] <= 1.0
    # With 60 documents, each judged document should be found by every mode for most queries.
    assert scores["hybrid"]["recall_at_10"] >= 0.8
    assert scores["hybrid"]["ndcg_at_10"] >= max(scores["dense"]["ndcg_at_10"], scores["lexical"]["ndcg_at_10"]) - 0.05
    assert "nDCG@10" in result.stdout and "hybrid" in result.stdout

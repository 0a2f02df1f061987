"""The engine manager without vLLM: command line, environment, and startup failures of a real subprocess."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from groundwork.serving.engine import EngineConfig, LocalEngine, cpu_list
from groundwork.serving.errors import EngineError


def hf_dir(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text("{}")
    return root


def test_cpu_list_is_compact() -> None:
    assert cpu_list([0, 1]) == "0-1"
    assert cpu_list([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert cpu_list([3]) == "3"


def test_environment_binds_all_cores_and_stays_offline(tmp_path: Path) -> None:
    engine = LocalEngine(EngineConfig(python=Path(sys.executable), model="file:///x", cache_dir=tmp_path))
    env = engine.environment({"PATH": "/bin"})
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"
    assert env["VLLM_CPU_OMP_THREADS_BIND"].startswith("0")
    assert env["PATH"] == "/bin"
    custom = LocalEngine(
        EngineConfig(
            python=Path(sys.executable),
            model="file:///x",
            cache_dir=tmp_path,
            omp_threads_bind="auto",
            extra_env=(("VLLM_CPU_KVCACHE_SPACE", "4"),),
        )
    ).environment({})
    assert "VLLM_CPU_OMP_THREADS_BIND" not in custom
    assert custom["VLLM_CPU_KVCACHE_SPACE"] == "4"


def test_a_server_that_exits_during_startup_fails_fast_with_its_log(tmp_path: Path) -> None:
    """The platform venv has no vllm: the real subprocess exits at once and the error shows why."""
    model = hf_dir(tmp_path / "tiny-model")
    config = EngineConfig(
        python=Path(sys.executable),
        model=model.as_uri(),
        cache_dir=tmp_path / "cache",
        startup_timeout_s=60,
        extra_args=("--max-num-seqs", "2"),
    )
    engine = LocalEngine(config)
    started = time.perf_counter()
    with pytest.raises(EngineError, match=r"No module named '?vllm"):
        engine.start()
    assert time.perf_counter() - started < 30
    command = engine.command()
    assert command[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert command[command.index("--model") + 1] == str(model)
    assert command[command.index("--served-model-name") + 1] == "tiny-model"
    assert "--enforce-eager" in command and command[-2:] == ["--max-num-seqs", "2"]
    assert engine.pid is None, "nothing left running"
    engine.stop()


def test_missing_interpreter_is_reported(tmp_path: Path) -> None:
    config = EngineConfig(python=tmp_path / "nope" / "python", model="file:///x", cache_dir=tmp_path)
    with pytest.raises(EngineError, match=r"setup_vllm\.sh"):
        LocalEngine(config).start()

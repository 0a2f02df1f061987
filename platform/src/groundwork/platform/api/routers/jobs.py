"""Ingestion jobs and their progress."""

from __future__ import annotations

from fastapi import APIRouter

from groundwork.platform.api.deps import DocumentsDep, PrincipalDep
from groundwork.platform.api.schemas import DocumentOut, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", summary="Job status with progress (done / total)")
def get_job(job_id: str, documents: DocumentsDep, principal: PrincipalDep) -> JobOut:
    return JobOut.build(documents.get_job(principal, job_id))


@router.get("/{job_id}/documents", summary="The job's documents the caller may read, with status and failure reason")
def job_documents(job_id: str, documents: DocumentsDep, principal: PrincipalDep) -> list[DocumentOut]:
    return [DocumentOut.build(d) for d in documents.job_documents(principal, job_id)]


@router.get("/{job_id}/failures", summary="Documents of the job that failed or were dead-lettered, with reasons")
def job_failures(job_id: str, documents: DocumentsDep, principal: PrincipalDep) -> list[DocumentOut]:
    return [DocumentOut.build(d) for d in documents.job_failures(principal, job_id)]


@router.post(
    "/{job_id}/retry",
    status_code=202,
    summary="Queue the job's failed and dead-lettered documents again, as a new job with fresh attempts (editor)",
)
def retry_job(job_id: str, documents: DocumentsDep, principal: PrincipalDep) -> JobOut:
    job = documents.get_job(principal, job_id)
    return JobOut.build(documents.retry(principal, job.datastore_id, job_id=job_id))

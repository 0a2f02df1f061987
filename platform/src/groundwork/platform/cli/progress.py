"""Progress display for long-running jobs."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from groundwork.platform.backends import Backend, JobState


def follow_jobs(backend: Backend, job_ids: Sequence[str], console: Console, *, poll: float = 0.5) -> list[JobState]:
    """Show one bar over all jobs until each has finished; returns their final states."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        states = [backend.job(job_id) for job_id in job_ids]
        task = progress.add_task("indexing", total=sum(s.total for s in states), failed=0)
        while True:
            states = [s if s.finished else backend.job(s.id) for s in states]
            progress.update(task, completed=sum(s.done for s in states), failed=sum(s.failed for s in states))
            if all(s.finished for s in states):
                return states
            time.sleep(poll)

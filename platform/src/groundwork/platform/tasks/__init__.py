"""Task queues: how pipeline work is scheduled (in-process pool here; Celery in scale-out mode)."""

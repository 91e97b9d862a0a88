"""The Celery application shared by every worker machine.

Two queues: `gpu` (training, generation; one task at a time per GPU) and `cpu` (import,
render). A task's name says its queue: "gpu.train" goes to `gpu`, "cpu.render_stimulus" to `cpu`.
Jobs run for hours, so a job is acknowledged only when it finishes and is re-queued when its
worker dies: every task must therefore be idempotent and resumable.
"""

import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Exchange, Queue

from worker.torch_threads import on_worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GPU_QUEUE = "gpu"
CPU_QUEUE = "cpu"
QUEUES = (GPU_QUEUE, CPU_QUEUE)

app = Celery("turing_music")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=tuple(
        Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
    ),
    task_default_queue=CPU_QUEUE,
    task_default_exchange=CPU_QUEUE,
    task_default_routing_key=CPU_QUEUE,
    task_routes={f"{name}.*": {"queue": name, "routing_key": name} for name in QUEUES},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_extended=True,
    result_expires=7 * 24 * 3600,
    # Long jobs: the broker must not hand an unacknowledged job to a second worker while the
    # first is still training. Redis re-delivers after this timeout, so it exceeds any job.
    broker_transport_options={"visibility_timeout": 12 * 3600},
    result_backend_transport_options={"visibility_timeout": 12 * 3600},
    worker_cancel_long_running_tasks_on_connection_loss=True,
    broker_connection_retry_on_startup=True,
)
app.autodiscover_tasks()
# Torch's thread count (TORCH_THREADS) is set in each pool process as it starts, not at import.
worker_process_init.connect(on_worker_process_init, weak=False)

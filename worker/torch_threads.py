"""How many threads torch may use in this process: the TORCH_THREADS setting, applied once.

Torch starts one CPU thread per core. Two workers on one box, or a worker on a small machine,
then fight over the cores and run slower than with fewer threads each. A Celery worker applies
the setting in each pool process as it starts (worker_process_init, connected in
worker/celery_app.py); `manage.py train` and `generate` apply it before working in the foreground.
"""

from django.conf import settings


def apply_torch_threads(threads: int | None = None) -> int | None:
    """Sets torch's intra-op thread count to `threads` (default: the TORCH_THREADS setting) and
    returns it; None leaves torch's own choice alone and does not even import torch, so a cpu
    worker that never trains does not pay for it."""
    threads = settings.TORCH_THREADS if threads is None else threads
    if not threads:
        return None
    import torch

    torch.set_num_threads(threads)
    return threads


def on_worker_process_init(**kwargs) -> None:
    """Celery's worker_process_init receiver: every pool process (or the solo pool) starts here."""
    apply_torch_threads()

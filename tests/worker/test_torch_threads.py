"""TORCH_THREADS: applied in each worker process as it starts, and by the foreground commands."""

from io import StringIO

import pytest
import torch
from celery.signals import worker_process_init
from django.core.management import call_command

from tests.dashboard.helpers import small_corpus_fixture  # noqa: F401 - fixture
from worker.torch_threads import apply_torch_threads


@pytest.fixture
def threads_restored():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_starting_worker_process_takes_the_setting(settings, threads_restored):
    settings.TORCH_THREADS = 1 if torch.get_num_threads() != 1 else 2
    worker_process_init.send(sender="test@box")  # what Celery sends in each new pool process
    assert torch.get_num_threads() == settings.TORCH_THREADS


def test_unset_leaves_torch_its_own_choice(settings, threads_restored):
    settings.TORCH_THREADS = None
    before = torch.get_num_threads()
    assert apply_torch_threads() is None
    assert torch.get_num_threads() == before


@pytest.mark.django_db
def test_the_foreground_train_command_applies_it(settings, threads_restored, small_corpus):
    settings.TORCH_THREADS = 1 if torch.get_num_threads() != 1 else 2
    call_command(
        "train", "--model", "roll_lstm", "--corpus", "mini", "--epochs", "1",
        "--hidden-size", "8", "--dense-size", "8", "--window", "8", "--max-windows", "8",
        "--device", "cpu", "--steps-per-beat", "2",
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    assert torch.get_num_threads() == settings.TORCH_THREADS

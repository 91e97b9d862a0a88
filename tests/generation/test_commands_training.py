"""manage.py train / generate / benchmark_jsb and the gpu tasks, end to end on a tiny corpus."""

import numpy as np
import pretty_midi
import pytest
import torch
from django.core.management import CommandError, call_command
from django.urls import reverse

from generation.encoding.tokens import Vocabulary, is_chord
from generation.memorisation import is_memorised
from generation.midi_files import midi_bytes
from generation.models import Corpus, GeneratedPiece, GenerationBatch, Piece, TrainingRun
from generation.models.runs import STOPPED, Status
from generation.tasks.sampling import (
    corpus_index,
    create_generation_batch,
    generate_batch,
    with_voicings,
)
from generation.tasks.training import as_indices, encode_split, train_run
from tests.conftest import make_midi

pytestmark = pytest.mark.django_db

TOKENS = {"representation": "tokens", "step_beats": 0.5}
TINY = ["--epochs", "2", "--hidden-size", "8", "--dense-size", "8", "--window", "8"]
TINY += ["--batch-size", "16", "--max-windows", "64"]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def corpus() -> Corpus:
    """Ten short two-voice pieces: six to train on, two to validate, two held out."""
    corpus = Corpus.objects.create(slug="tiny", title="tiny", source=Corpus.Source.UPLOAD)
    rng = np.random.default_rng(0)
    splits = ["train"] * 6 + ["valid"] * 2 + ["test"] * 2
    for i, split in enumerate(splits):
        melody = 60 + rng.integers(0, 12, 24)
        notes = [(int(p), t / 2, t / 2 + 0.5) for t, p in enumerate(melody)]
        notes += [(48 + int(p) % 12, 2 * t, 2 * t + 2) for t, p in enumerate(melody[::4])]
        pm = make_midi(notes)
        piece = Piece.from_midi(corpus, f"piece {i}", pm, split)
        piece.store_midi(midi_bytes(pm))
        piece.save()
    return corpus


@pytest.mark.parametrize(
    ("model", "extra", "generate"),
    [
        ("roll_lstm", [], []),
        ("seq2seq", ["--teacher-forcing-ratio", "1.0"], ["--seed-strategy", "primer"]),
        ("token_lstm", ["--embedding-dim", "4"], ["--seed-strategy", "random"]),
    ],
)
def test_train_then_generate_in_the_foreground(corpus, capsys, model, extra, generate):
    call_command("train", "--model", model, "--corpus", "tiny", *TINY, *extra)
    run = TrainingRun.objects.get()
    assert run.status == "succeeded" and run.model_kind == model
    assert [m["epoch"] for m in run.history] == [1, 2]
    assert run.best_checkpoint and run.device == "cpu"
    assert run.test_metrics["steps"] > 0 and "nll" in run.test_metrics
    assert run.config["hidden_size"] == 8 and run.config["num_layers"] in (2, 3)
    if model == "token_lstm":
        run_voicings = run.encoding["voicings"]
        assert run.encoding["vocabulary"] and run.encoding["representation"] == "tokens"
        chords = {t for t in run.encoding["vocabulary"] if is_chord(t)}
        assert chords and set(run.encoding["voicings"]) == chords  # the corpus's own registers
        assert min(min(v) for v in run.encoding["voicings"].values()) < 60
        # A run trained before voicings were kept gets them from its training split.
        older = {k: v for k, v in run.encoding.items() if k != "voicings"}
        TrainingRun.objects.filter(pk=run.pk).update(encoding=older)
        run.refresh_from_db()
        assert with_voicings(older, run)["voicings"] == run_voicings
    else:
        assert run.encoding == {"representation": "roll", "steps_per_beat": 4}

    call_command("generate", "--run", str(run.pk), "--n", "3", "--bars", "2", *generate)
    batch = GenerationBatch.objects.get()
    assert batch.status == "succeeded" and batch.corpus.source == "generated"
    samples = list(batch.samples.all())
    assert [s.index for s in samples] == [0, 1, 2]
    assert "voicings" not in batch.settings["encoding"]
    for s in samples:
        assert s.parameters["random_seed"] == 0 and s.parameters["bars"] == 2
        assert s.parameters["seed_strategy"] == batch.seed_strategy
        assert 0.0 <= s.ngram_share <= 1.0 and s.longest_verbatim_beats >= 0
        if s.piece:
            assert s.piece.corpus == batch.corpus and s.piece.load_midi().instruments
    if batch.seed_strategy == "primer":
        assert all(s.primer.split == "test" for s in samples)
    out = capsys.readouterr().out
    assert f"batch {batch.pk}: 3 samples" in out and "test split:" in out


def test_the_gpu_tasks_train_resume_and_generate(corpus, tmp_path):
    call_command("train", "--model", "roll_lstm", "--corpus", "tiny", *TINY, "--loss", "bce")
    run = TrainingRun.objects.get()
    first_history = run.history
    # a redelivered task for a finished run changes nothing
    assert train_run.apply(args=[run.pk]).get()["status"] == "succeeded"
    run.refresh_from_db()
    assert run.history == first_history
    # more epochs: the task resumes from the last checkpoint
    TrainingRun.objects.filter(pk=run.pk).update(
        status="pending", config={**run.config, "epochs": 3}
    )
    train_run.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert [m["epoch"] for m in run.history] == [1, 2, 3]
    assert run.history[:2] == first_history

    call_command("generate", "--run", str(run.pk), "--n", "2", "--bars", "1", "--mode", "threshold")
    batch = GenerationBatch.objects.get()
    before = sorted(GeneratedPiece.objects.values_list("longest_verbatim_steps", flat=True))
    GenerationBatch.objects.filter(pk=batch.pk).update(status="running")
    assert generate_batch.apply(args=[batch.pk]).get()["samples"] == 2
    assert GeneratedPiece.objects.count() == 2  # the retry replaced, not duplicated
    after = sorted(GeneratedPiece.objects.values_list("longest_verbatim_steps", flat=True))
    assert before == after


def test_a_stopped_run_resumes_in_the_foreground(corpus):
    call_command("train", "--model", "roll_lstm", "--corpus", "tiny", *TINY)
    run = TrainingRun.objects.get()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED, error=STOPPED, config={**run.config, "epochs": 3}
    )
    call_command("train", "--resume", str(run.pk))
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.error == ""
    assert [m["epoch"] for m in run.history] == [1, 2, 3]


def test_tokens_the_training_split_never_had_are_counted_where_scores_leave_them_out(
    corpus, client, django_user_model
):
    for piece in corpus.pieces.exclude(split="train"):
        pm = piece.load_midi()
        pm.instruments[0].notes.append(pretty_midi.Note(90, 100, 0.1, 0.2))  # E7, alone
        piece.store_midi(midi_bytes(pm))
        piece.save()
    call_command("train", "--model", "token_lstm", "--corpus", "tiny", *TINY)
    run = TrainingRun.objects.get()
    assert run.data_summary["valid_unknown_steps"] == 2
    assert run.test_metrics["unknown_steps"] == 2
    client.force_login(django_user_model.objects.create_user("reader"))
    page = " ".join(client.get(reverse("dashboard:run", args=[run.pk])).content.decode().split())
    assert "2 validation tokens that the training split never had are left out" in page
    assert f"over {run.test_metrics['steps']} steps; 2 tokens that the training" in page


@pytest.mark.parametrize(("model", "silence"), [("roll_lstm", 1), ("seq2seq", 8)])
def test_generating_from_silence_feeds_the_silence_training_put_before_each_piece(
    corpus, model, silence
):
    # Every-step training puts one silent frame before a piece, seq2seq a window (8 here): a
    # window of silence before a seq2one model was a state it had never been trained in.
    call_command("train", "--model", model, "--corpus", "tiny", *TINY)
    run = TrainingRun.objects.get()
    call_command(
        "generate", "--run", str(run.pk), "--n", "1", "--bars", "1", "--seed-strategy", "zeros"
    )
    assert GenerationBatch.objects.get().settings["seed_steps"] == silence


def test_bad_requests_change_nothing(corpus):
    with pytest.raises(CommandError, match="no corpus 'nope'"):
        call_command("train", "--model", "seq2seq", "--corpus", "nope")
    with pytest.raises(CommandError, match="teacher_forcing_ratio"):
        call_command(
            "train", "--model", "seq2seq", "--corpus", "tiny", "--teacher-forcing-ratio", "2"
        )
    assert not TrainingRun.objects.exists()
    run = TrainingRun.objects.create(corpus=corpus, model_kind="roll_lstm", config={})
    with pytest.raises(CommandError, match="no checkpoint yet"):
        call_command("generate", "--run", str(run.pk))
    with pytest.raises(CommandError, match="no training run 999"):
        call_command("generate", "--run", "999")
    assert not GenerationBatch.objects.exists()


@pytest.mark.parametrize(
    ("model", "chosen", "refusal"),
    [
        ("token_lstm", {}, "no silence to start from"),
        ("roll_lstm", {"sampling_mode": "threshold", "n_pieces": 2}, "the same piece every time"),
    ],
)
def test_batches_that_cannot_make_different_music_are_refused(corpus, model, chosen, refusal):
    run = TrainingRun.objects.create(
        corpus=corpus, model_kind=model, config={"loss": "bce"}, checkpoints={"best": {"epoch": 1}}
    )
    request = {"n_pieces": 1, "bars": 2} | chosen
    with pytest.raises(ValueError, match=refusal):
        create_generation_batch(run, seed_strategy="zeros", **request)
    assert not GenerationBatch.objects.exists()
    assert create_generation_batch(run, seed_strategy="random", **request).seed_strategy == "random"


@pytest.mark.parametrize(
    ("model", "head", "protocol"),
    [("seq2seq", "independent", "piece"), ("roll_lstm", "nade", "window")],
)
def test_benchmark_jsb_prints_nll_per_step_and_frame_accuracy(capsys, model, head, protocol):
    call_command(
        "benchmark_jsb",
        "--model", model,
        "--head", head,
        "--protocol", protocol,
        "--epochs", "1",
        "--hidden-size", "8",
        "--dense-size", "8",
        "--nade-hidden", "8",
        "--window", "8",
        "--max-windows", "64",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert f"{head} head" in out and "marginal baseline" in out
    assert "test: 4725 time steps in 77 pieces" in out
    assert ("block by block" if model == "seq2seq" else f"protocol {protocol}") in out
    assert "test NLL per time step:" in out and "RNN 8.71, LSTM 8.67" in out
    assert "test frame accuracy:" in out


@pytest.mark.parametrize("representation", ["roll", "tokens"])
def test_the_memorisation_screen_holds_samples_against_every_split(corpus, representation):
    # A primer comes from the test split, where the human excerpts come from too: a sample that
    # repeats it was passed by a screen of the training split alone.
    encoding = {"representation": "roll", "steps_per_beat": 4}
    if representation == "tokens":
        vocabulary = sorted({t for s in encode_split(corpus, "train", TOKENS)[1] for t in s})
        encoding = TOKENS | {"vocabulary": vocabulary}
    index, transpose = corpus_index(corpus, encoding)
    _, held_out = encode_split(corpus, "test", encoding)
    copy = held_out[0]
    if representation == "tokens":
        copy = as_indices([copy], Vocabulary(encoding["vocabulary"]))[0]
    per_beat = 4 if representation == "roll" else 1 / TOKENS["step_beats"]
    score = index.score_in_every_key(copy, per_beat, 4, transpose)
    assert is_memorised(score.longest_beats, score.ngram_share)

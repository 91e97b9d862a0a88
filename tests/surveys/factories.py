"""Real rows and real (short) audio for survey tests: human pieces, a trained-run batch of machine
pieces, finished stimuli and attention clips with MP3 and Ogg/Opus files, and an open study over
them."""

import numpy as np
from django.core.files.base import ContentFile

from audio.codecs import EncodingSpec, encode_mp3, encode_opus
from generation.models import Corpus, GeneratedPiece, GenerationBatch, Piece, TrainingRun
from surveys.models import AttentionClip, Stimulus, Study

RATE = 48000
FORBIDDEN_WORDS = ("human", "machine", "model", "batch", "piece", "seq2seq", "lstm", "corpus")


def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * hz * t) * np.hanning(len(t))


def tone_mp3(seconds: float = 0.6, hz: float = 440.0) -> bytes:
    """A short, real MP3: a faded sine, as the stimulus encoder writes it."""
    return encode_mp3(_tone(seconds, hz), RATE, EncodingSpec())


def tone_ogg(seconds: float = 0.6, hz: float = 440.0) -> bytes:
    """The same tone as Ogg/Opus, as the stimulus encoder writes it."""
    return encode_opus(_tone(seconds, hz), RATE, EncodingSpec())


def _piece(corpus: Corpus, index: int) -> Piece:
    piece = Piece(
        corpus=corpus,
        name=f"{corpus.slug}/piece-{index}.mid",
        content_hash=f"{corpus.slug}-{index}",
        split="test",
        n_notes=10,
        duration_seconds=8.0,
    )
    piece.midi.save("piece.mid", ContentFile(b"MThd"), save=False)
    piece.save()
    return piece


def _stimulus(piece: Piece, kind: str, label: str, hz: float) -> Stimulus:
    stimulus = Stimulus(
        piece=piece,
        source_kind=kind,
        source_label=label,
        status=Stimulus.Status.READY,
        duration_seconds=0.6,
        loudness_lufs=-16.0,
    )
    stimulus.audio_mp3.save("x.mp3", ContentFile(tone_mp3(hz=hz)), save=False)
    stimulus.audio_ogg.save("x.ogg", ContentFile(tone_ogg(hz=hz)), save=False)
    stimulus.save()
    return stimulus


def machine_batch(label: str = "seq2seq") -> GenerationBatch:
    corpus, _ = Corpus.objects.get_or_create(
        slug="jsb-train", defaults={"title": "chorales", "source": Corpus.Source.BUNDLED}
    )
    run = TrainingRun.objects.create(corpus=corpus, model_kind=label, config={})
    out = Corpus.objects.create(
        slug=f"gen-{run.pk}", title="generated", source=Corpus.Source.GENERATED
    )
    return GenerationBatch.objects.create(
        run=run,
        corpus=out,
        n_pieces=4,
        bars=4,
        seed_strategy="zeros",
        sampling_mode="temperature",
    )


def make_stimuli(n_human: int, machine: dict[str, int]) -> list[Stimulus]:
    """n_human human excerpts and, per model label, that many machine excerpts in one batch."""
    human = Corpus.objects.create(
        slug=f"jsb-test-{Corpus.objects.count()}",
        title="held-out chorales",
        source=Corpus.Source.BUNDLED,
    )
    stimuli = [_stimulus(_piece(human, i), "human", "human", 330 + 20 * i) for i in range(n_human)]
    for label, count in machine.items():
        batch = machine_batch(label)
        for i in range(count):
            piece = _piece(batch.corpus, i)
            GeneratedPiece.objects.create(
                batch=batch,
                index=i,
                piece=piece,
                n_notes=10,
                longest_verbatim_steps=0,
                longest_verbatim_beats=0.0,
                ngram_steps=4,
                ngram_share=0.0,
                parameters={},
            )
            stimuli.append(_stimulus(piece, "machine", label, 500 + 20 * i))
    return stimuli


def make_attention_clips(design: str = "single") -> list[AttentionClip]:
    if design == "pair":
        wanted = [
            ("please choose a", {"expected_choice": "a"}),
            ("please choose b", {"expected_choice": "b"}),
        ]
    else:
        wanted = [
            ("please answer a person", {"expected_judged_human": True}),
            ("please answer a computer", {"expected_judged_human": False}),
        ]
    clips = []
    for text, expected in wanted:
        clip = AttentionClip(text=text, design=design, duration_seconds=0.6, **expected)
        clip.audio_mp3.save("x.mp3", ContentFile(tone_mp3(hz=220)), save=False)
        clip.audio_ogg.save("x.ogg", ContentFile(tone_ogg(hz=220)), save=False)
        clip.save()
        clips.append(clip)
    return clips


def draft_study(
    slug: str = "listen",
    trials: int = 4,
    attention: int = 1,
    headphone_trials: int = 2,
    n_human: int = 4,
    machine: dict[str, int] | None = None,
    **fields,
) -> Study:
    """A study ready to open (pool, finished audio, attention clips) but still a draft."""
    fields.setdefault("exclusion_rules", {"headphone_min_correct": 0})
    study = Study.objects.create(
        slug=slug,
        title="Listening study",
        consent_text="You may stop at any time.",
        trials_per_participant=trials,
        attention_checks=attention,
        headphone_trials=headphone_trials,
        **fields,
    )
    study.add_stimuli(make_stimuli(n_human, machine or {"seq2seq": 2, "token_lstm": 2}))
    if attention:
        study.attention_clips.add(*make_attention_clips(study.design))
    return study


def open_study(slug: str = "listen", **options) -> Study:
    """A ready study, opened (its exclusion rules frozen); options as for draft_study."""
    study = draft_study(slug, **options)
    study.open()
    return study

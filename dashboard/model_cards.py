"""What a report's reader needs to know of each model heard in a study, in words: how big it
was, what it trained on and for how long, how far it got against its baselines, and how its
pieces were drawn. A pass rate means little without it: a four-epoch toy and a full-size model
answer different questions."""

from generation.models import GenerationBatch
from generation.training import has_learned

SEEDS = {
    "primer": "the opening of a held-out piece",
    "random": "random notes",
    "zeros": "silence",
}


def model_card(batch: GenerationBatch) -> str:
    label = f"{batch.model_label}, batch {batch.pk}"
    if batch.imported:
        return (
            f"{label}: pieces imported from outside the platform; how the generator was "
            "trained is not known here."
        )
    epoch = batch.settings.get("checkpoint_epoch") or batch.run.best_epoch
    return (
        f"{label}: {_network(batch.run, epoch)}; {_scores(batch.run, epoch)}. {_sampling(batch)}."
    )


def _network(run, epoch: int | None) -> str:
    """The network's size and training; `epoch` is the checkpoint its pieces were drawn from."""
    config, summary, epochs = run.config, run.data_summary, len(run.history)
    words = "an LSTM"
    if config.get("num_layers") and config.get("hidden_size"):
        words += f" of {config['num_layers']} x {config['hidden_size']} units"
    words += " with a NADE head" if config.get("head") == "nade" else ""
    words += f", trained on {run.corpus.slug}"
    if summary.get("train_pieces"):
        words += f" ({summary['train_pieces']} pieces)"
    if epochs:
        words += f" for {epochs} epoch{'s' if epochs != 1 else ''}"
        words += f", sampled from epoch {epoch}" if epoch else ""
    return words


def _scores(run, epoch: int | None) -> str:
    scored = run.history[epoch - 1] if epoch and len(run.history) >= epoch else {}
    if scored.get("valid_nll") is None or run.baseline_nll is None:
        return "no validation score recorded"
    words = (
        f"validation NLL {scored['valid_nll']:.3f} per step, against {run.baseline_nll:.3f} for "
        "a model that ignores its input"
    )
    if run.previous_step_nll is not None:
        words += f" and {run.previous_step_nll:.3f} for one that knows only the step before"
    if run.test_metrics.get("nll") is not None and epoch == run.best_epoch:
        words += f"; test split {run.test_metrics['nll']:.3f}"
    if not has_learned(scored["valid_nll"], run.baseline_nll):
        words += " (it has not learned from its input: its pieces are noise)"
    return words


def _sampling(batch: GenerationBatch) -> str:
    if batch.sampling_mode == "threshold":
        how = f"keys above probability {batch.threshold:g}"
    else:
        how = f"{batch.sampling_mode} sampling at temperature {batch.temperature:g}"
    seed = SEEDS.get(batch.seed_strategy, batch.seed_strategy)
    return f"Its pieces were drawn by {how}, each starting from {seed}"

"""Dashboard forms: each one checks its input fully, so a bad form changes nothing and says why."""

import json
import zipfile
from dataclasses import fields
from pathlib import Path

from django import forms
from django.core.files.uploadedfile import UploadedFile

from generation.corpora import bundled_names, describe_bundled, zip_problem
from generation.importing import upload_corpus_problem
from generation.midi_files import MidiError, read_midi, size_in_words
from generation.models import Corpus, GenerationBatch, TrainingRun
from generation.models.runs import Status
from generation.training import OPTIMIZERS, TrainConfig
from surveys.exclusion import validate_rules
from surveys.models import Stimulus, Study
from surveys.spec import spec_of

MIDI_SUFFIXES = {".mid", ".midi"}
UPLOAD_SUFFIXES = MIDI_SUFFIXES | {".zip"}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# MIDI is read at about half a megabyte a second, inside the request for every loose file (to
# check it) and, for a generator's import, for every file in its zips too. Past this much in one
# form the server's 120 s timeout could cut the request off; larger sets go in parts, or through
# the commands, which have no such limit.
MAX_FORM_MIDI_BYTES = 32 * 2**20


class BundledImportForm(forms.Form):
    name = forms.ChoiceField(
        label="Bundled corpus",
        choices=[(name, f"{name}: {describe_bundled(name)}") for name in bundled_names()],
    )
    limit = forms.IntegerField(
        label="Import at most (pieces)",
        required=False,
        min_value=1,
        help_text="Leave empty for the whole corpus (the Bach chorales take a few minutes).",
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".mid,.midi,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


def _check_upload(upload: UploadedFile) -> tuple[str | None, int]:
    """(None when the file can be imported, else the reason in words; bytes of MIDI it holds)."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return f"{upload.name}: only .mid, .midi and .zip files can be imported", 0
    if upload.size > MAX_UPLOAD_BYTES:
        return f"{upload.name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", 0
    data = upload.read()
    upload.seek(0)
    if suffix in MIDI_SUFFIXES:
        try:
            read_midi(data, upload.name)
        except MidiError as exc:
            return str(exc), 0
        return None, len(data)
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = [
                info
                for info in archive.infolist()
                if Path(info.filename).suffix.lower() in MIDI_SUFFIXES
            ]
    except zipfile.BadZipFile:
        return f"{upload.name}: not a valid zip archive", 0
    finally:
        upload.seek(0)
    if not entries:
        return f"{upload.name}: the zip holds no .mid or .midi files", 0
    for info in entries:
        if problem := zip_problem(info):
            return f"{upload.name}:{info.filename}: {problem}", 0
    return None, sum(info.file_size for info in entries)


def _checked_uploads(files: list[UploadedFile], *lead: str) -> list[UploadedFile]:
    """The files, or every bad one refused by its name (an empty one too), after ``lead``."""
    if not files:
        raise forms.ValidationError("Choose at least one file.")
    checked = [_check_upload(upload) for upload in files]
    problems = [problem for problem, _ in checked if problem]
    midi = sum(size for _, size in checked)
    if not problems and midi > MAX_FORM_MIDI_BYTES:
        problems.append(
            f"These files hold {size_in_words(midi)} of MIDI, more than one upload may "
            f"({MAX_FORM_MIDI_BYTES // 2**20} MB): upload them in parts, or import them with "
            "manage.py import_corpus (or import_generated) --files, which has no such limit."
        )
    if problems:
        raise forms.ValidationError([*lead, *problems])
    return files


class UploadImportForm(forms.Form):
    title = forms.CharField(
        label="Corpus name",
        max_length=200,
        help_text="New pieces join this corpus; a piece already in it is not duplicated.",
    )
    # An empty file gets through here so that the check below refuses it by its name.
    files = MultipleFileField(label="MIDI files or a zip of them", allow_empty_file=True)

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if problem := upload_corpus_problem(title):
            raise forms.ValidationError(problem[0].upper() + problem[1:] + ".")
        return title

    def clean_files(self) -> list[UploadedFile]:
        return _checked_uploads(self.cleaned_data["files"])


class ExternalGeneratorForm(forms.Form):
    """MIDI made by a generator the platform did not train, and what reports should call it."""

    name = forms.CharField(
        label="Model name",
        max_length=50,
        help_text="As reports and exports will name it, e.g. DeepBach or Coconet.",
    )
    version = forms.CharField(label="Version", max_length=20, required=False)
    description = forms.CharField(
        label="Short description or link",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    corpus = forms.ModelChoiceField(
        label="Corpus it imitates",
        queryset=Corpus.objects.exclude(source=Corpus.Source.GENERATED),
        to_field_name="slug",
        help_text="Every file is screened for copies of any piece of this corpus, in any key; "
        "copies are kept out of studies.",
    )
    # An empty file gets through here so that the check below refuses it by its name.
    files = MultipleFileField(label="MIDI files or a zip of them", allow_empty_file=True)

    def clean_files(self) -> list[UploadedFile]:
        return _checked_uploads(self.cleaned_data["files"], "Nothing was imported.")


def _default(name: str):
    return {f.name: f.default for f in fields(TrainConfig)}[name]


def _int(label: str, name: str, minimum: int = 1, required: bool = True, help_text: str = ""):
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        required=required,
        initial=_default(name),
        help_text=help_text,
    )


def _float(label: str, name: str, minimum: float = 0.0, maximum: float | None = None):
    return forms.FloatField(
        label=label, min_value=minimum, max_value=maximum, initial=_default(name)
    )


NETWORK_DEFAULT = [("", "the network's default")]


class TrainingRunForm(forms.Form):
    """Every TrainConfig setting a researcher may change; empty optional ones take the
    network's defaults (networks.py: the settings that learn; the seed's stay choices)."""

    corpus = forms.ModelChoiceField(
        queryset=Corpus.objects.exclude(source=Corpus.Source.GENERATED),
        empty_label=None,
        to_field_name="slug",
    )
    model = forms.ChoiceField(
        label="Network",
        choices=[
            ("token_lstm", "token_lstm: LSTM over note tokens (seq2one)"),
            ("roll_lstm", "roll_lstm: LSTM over the piano roll (seq2one)"),
            ("seq2seq", "seq2seq: encoder-decoder over the piano roll"),
        ],
        initial=_default("model"),
    )
    epochs = _int("Epochs", "epochs")
    patience = _int(
        "Early-stopping patience (epochs)", "patience", 0, False, "empty: never stop early"
    )
    batch_size = _int("Batch size", "batch_size", 1, False, "empty: the network's")
    learning_rate = forms.FloatField(
        label="Learning rate", min_value=1e-7, max_value=1.0, initial=_default("learning_rate")
    )
    optimizer = forms.ChoiceField(
        choices=NETWORK_DEFAULT + [(o, o) for o in sorted(OPTIMIZERS)], required=False
    )
    loss = forms.ChoiceField(
        choices=NETWORK_DEFAULT
        + [
            ("bce", "BCE (the default of both roll models)"),
            ("ce", "cross-entropy, one class a step (the seed's roll_lstm: only its lowest key)"),
            ("focal", "focal (the seed's seq2seq; its NLL is not comparable with the baseline)"),
        ],
        required=False,
    )
    head = forms.ChoiceField(
        label="Output head (roll models)",
        choices=NETWORK_DEFAULT
        + [
            ("independent", "independent keys (the seed's; seq2seq's default)"),
            ("nade", "NADE: each key given the keys below it (BCE; roll_lstm's default)"),
        ],
        required=False,
    )
    positions = forms.ChoiceField(
        label="Loss taken at",
        choices=NETWORK_DEFAULT
        + [("last", "the last step of each window (the seed's)"), ("all", "every step")],
        required=False,
    )
    hidden_size = _int("LSTM hidden size", "hidden_size", 1, False, "empty: the network's")
    nade_hidden = _int("NADE hidden units", "nade_hidden", 1, False, "empty: the network's")
    num_layers = forms.IntegerField(label="LSTM layers", min_value=1, required=False)
    dropout = forms.FloatField(label="LSTM dropout", min_value=0, max_value=0.95, required=False)
    dense_size = _int("Dense layer size", "dense_size", 1, False, "empty: the network's")
    dense_dropout = forms.FloatField(
        label="Dense dropout", min_value=0, max_value=0.95, required=False
    )
    embedding_dim = _int(
        "Token embedding size",
        "embedding_dim",
        0,
        False,
        "empty: a learned embedding of the network's size; 0: the seed's scaled token index",
    )
    weight_decay = _float("Weight decay", "weight_decay", 0)
    grad_clip = _float("Gradient-norm clipping (0: off)", "grad_clip", 0)
    lr_decay = _float("Learning-rate factor on a plateau", "lr_decay", 0.01, 1)
    lr_patience = _int("Plateau epochs before it falls (0: never)", "lr_patience", 0)
    bias_init = forms.ChoiceField(
        label="Output bias starts at",
        choices=[("marginal", "the training split's frequencies"), ("zero", "zero (the seed's)")],
        initial="marginal",
    )
    window = _int("Input window (steps)", "window")
    stride = _int("Window stride (steps)", "stride")
    max_windows = _int("Training windows per epoch", "max_windows", 1, False, "empty: all")
    steps_per_beat = forms.IntegerField(
        label="Piano-roll steps per beat", min_value=1, max_value=48, initial=4
    )
    teacher_forcing_ratio = _float("Teacher forcing ratio (seq2seq)", "teacher_forcing_ratio", 0, 1)
    threshold = forms.FloatField(
        label="Output threshold", min_value=0.01, max_value=0.99, initial=_default("threshold")
    )
    focal_alpha = _float("Focal alpha", "focal_alpha", 0, 1)
    focal_gamma = _float("Focal gamma", "focal_gamma", 0)
    seed = _int("Random seed", "seed", 0)
    device = forms.ChoiceField(
        choices=[("auto", "the worker's (CUDA when present)"), ("cpu", "cpu"), ("cuda", "cuda")],
        initial="auto",
    )

    CONFIG_FIELDS = [
        "model",
        "epochs",
        "patience",
        "batch_size",
        "learning_rate",
        "optimizer",
        "loss",
        "head",
        "positions",
        "hidden_size",
        "nade_hidden",
        "num_layers",
        "dropout",
        "dense_size",
        "dense_dropout",
        "embedding_dim",
        "window",
        "stride",
        "max_windows",
        "weight_decay",
        "grad_clip",
        "lr_decay",
        "lr_patience",
        "bias_init",
        "teacher_forcing_ratio",
        "threshold",
        "focal_alpha",
        "focal_gamma",
        "seed",
        "device",
    ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        chosen = {
            name: data[name] for name in self.CONFIG_FIELDS if data.get(name) not in (None, "")
        }
        chosen.setdefault("patience", None)
        try:
            self.config = TrainConfig(**chosen).resolved()
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not data["corpus"].pieces.filter(split="train").exists():
            raise forms.ValidationError(f"Corpus {data['corpus']} has no training pieces yet.")
        return data


class GenerationBatchForm(forms.Form):
    run = forms.ModelChoiceField(
        label="Checkpoint (best epoch of a finished run)",
        queryset=TrainingRun.objects.filter(status=Status.SUCCEEDED).select_related("corpus"),
        empty_label=None,
    )
    n_pieces = forms.IntegerField(label="Pieces", min_value=1, max_value=512, initial=16)
    bars = forms.IntegerField(label="Length (bars)", min_value=1, max_value=256, initial=16)
    beats_per_bar = forms.IntegerField(
        label="Beats per bar",
        min_value=1,
        max_value=12,
        initial=4,
        help_text="in quarter notes: 4 for 4/4, 3 for 3/4 or 6/8",
    )
    seed_strategy = forms.ChoiceField(
        label="Seed strategy",
        choices=[
            ("zeros", "zeros: silence"),
            ("random", "random notes"),
            ("primer", "primer: the opening of a held-out (test) piece"),
        ],
        initial="primer",
    )
    sampling_mode = forms.ChoiceField(
        label="Sampling",
        required=False,
        choices=[
            ("", "the model's default"),
            ("temperature", "temperature (one class per step)"),
            ("bernoulli", "Bernoulli per key"),
            ("threshold", "threshold / argmax"),
        ],
    )
    temperature = forms.FloatField(min_value=0.01, max_value=10, initial=1.0)
    threshold = forms.FloatField(min_value=0.01, max_value=0.99, initial=0.5)
    random_seed = forms.IntegerField(label="Random seed", min_value=0, initial=0)


class RenderForm(forms.Form):
    """Which pieces to render: a generation batch's, or a corpus split's (held-out test by
    default, the honest source of human excerpts)."""

    batch = forms.ModelChoiceField(
        label="Generated pieces of batch",
        queryset=GenerationBatch.objects.filter(status=Status.SUCCEEDED).select_related(
            "run", "generator"
        ),
        required=False,
        empty_label="(none: render human pieces below)",
    )
    corpus = forms.ModelChoiceField(
        label="Human pieces of corpus",
        queryset=Corpus.objects.exclude(source=Corpus.Source.GENERATED),
        to_field_name="slug",
        required=False,
        empty_label="(none)",
    )
    split = forms.ChoiceField(
        choices=[("test", "test (held out from every model)"), ("valid", "valid"), ("", "all")],
        required=False,
        initial="test",
    )
    n = forms.IntegerField(label="At most (pieces)", min_value=1, required=False, initial=32)
    bars = forms.IntegerField(
        label="Excerpt length (bars)",
        min_value=1,
        max_value=64,
        initial=8,
        help_text="One study compares excerpts of one length: render all of its pieces alike.",
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("batch")) == bool(data.get("corpus")):
            raise forms.ValidationError("Choose either a generation batch or a corpus.")
        return data


class ExcerptChoices(forms.ModelMultipleChoiceField):
    """Finished excerpts, each named with its length: one piece rendered at two lengths is two
    excerpts, and a study compares excerpts of one length only."""

    def label_from_instance(self, stimulus: Stimulus) -> str:
        bars = spec_of(stimulus.params).excerpt.bars
        seconds = f", {stimulus.duration_seconds:.1f} s" if stimulus.duration_seconds else ""
        return f"{stimulus} · {bars} bars{seconds}"


class StudyForm(forms.ModelForm):
    """Create or edit a draft study; the pool is chosen from finished excerpts."""

    pool = ExcerptChoices(
        queryset=Stimulus.objects.filter(status=Stimulus.Status.READY).select_related("piece"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Finished excerpts to draw trials from (human and machine).",
    )
    completion_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Optional redirect on completion; {code} becomes the completion code.",
    )
    screen_out_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Optional link for someone screened out; {code} becomes the screen-out code.",
    )
    rules_json = forms.CharField(
        label="Exclusion rules (JSON)",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Fixed when the study opens.",
    )

    class Meta:
        model = Study
        fields = [
            "slug",
            "title",
            "design",
            "consent_text",
            "instructions",
            "trials_per_participant",
            "show_score",
            "ask_experience",
            "attention_checks",
            "practice_trial",
            "headphone_trials",
            "headphone_screen_out",
            "screen_out_message",
            "screen_out_url",
            "target_participants",
            "overbooking",
            "time_limit_minutes",
            "completion_url",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rules_json"].initial = json.dumps(
            self.instance.exclusion_rules or validate_rules({}), indent=2
        )
        self.fields["design"].required = False
        if self.instance.pk:
            self.fields["pool"].initial = list(self.instance.stimuli.values_list("id", flat=True))

    def clean_slug(self) -> str:
        """Lower case: people retype a study link from a poster or a message in lower case, and
        "MyStudy" and "mystudy" would be two studies."""
        slug = self.cleaned_data["slug"].lower()
        taken = Study.objects.filter(slug=slug).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A study called {slug} exists already.")
        return slug

    def clean_design(self) -> str:
        """A form that leaves the design out (an older page, a script) means today's design."""
        return self.cleaned_data.get("design") or Study.Design.SINGLE

    def clean_rules_json(self) -> dict:
        try:
            return validate_rules(json.loads(self.cleaned_data["rules_json"]))
        except (json.JSONDecodeError, ValueError) as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self) -> dict:
        """Trials come half human, half machine in the single design; a pair holds one of each,
        so any number of pairs (two at least, as for trials) will do."""
        data = super().clean()
        trials, design = data.get("trials_per_participant"), data.get("design")
        if trials is not None and design == Study.Design.SINGLE and (trials < 2 or trials % 2):
            self.add_error(
                "trials_per_participant", "Use an even number, at least 2: half of each kind."
            )
        if trials is not None and design == Study.Design.PAIR and trials < 2:
            self.add_error("trials_per_participant", "Give each participant at least two pairs.")
        return data

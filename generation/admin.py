"""Admin for corpora, pieces, training runs, external generators, generation batches and their
samples. An external generator's files are imported from the dashboard ("Import an external
generator") or `manage.py import_generated`, which validate and screen them; here its record
and batches are seen and its description corrected."""

from django.contrib import admin
from django.db.models import Count

from generation.models import (
    Corpus,
    ExternalGenerator,
    GeneratedPiece,
    GenerationBatch,
    Piece,
    TrainingRun,
)


@admin.register(Corpus)
class CorpusAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "source", "n_pieces", "created")
    list_filter = ("source",)
    search_fields = ("slug", "title")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_n_pieces=Count("pieces"))

    @admin.display(ordering="_n_pieces", description="pieces")
    def n_pieces(self, corpus: Corpus) -> int:
        return corpus._n_pieces


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ("name", "corpus", "split", "n_notes", "duration_seconds", "created")
    list_filter = ("split", "corpus__source", "corpus")
    search_fields = ("name", "title", "content_hash")
    list_select_related = ("corpus",)
    readonly_fields = ("content_hash", "created")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "model_kind",
        "corpus",
        "status",
        "progress",
        "best_epoch",
        "best_valid_loss",
        "device",
        "created",
        "finished",
    )
    list_filter = ("status", "model_kind", "device", "corpus")
    search_fields = ("task_id", "message", "error")
    list_select_related = ("corpus",)
    readonly_fields = ("task_id", "created", "started", "finished")


class GeneratedPieceInline(admin.TabularInline):
    model = GeneratedPiece
    fields = (
        "index",
        "piece",
        "n_notes",
        "longest_verbatim_beats",
        "verbatim_transposition",
        "ngram_share",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class ImportedBatchInline(admin.TabularInline):
    model = GenerationBatch
    fields = ("n_pieces", "status", "created")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(ExternalGenerator)
class ExternalGeneratorAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "corpus", "n_batches", "created")
    list_filter = ("corpus",)
    search_fields = ("name", "version", "description")
    list_select_related = ("corpus",)
    readonly_fields = ("name", "version", "corpus", "created")
    inlines = [ImportedBatchInline]

    def has_add_permission(self, request) -> bool:
        return False  # files come with it: the dashboard form or import_generated adds one

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_n_batches=Count("batches"))

    @admin.display(ordering="_n_batches", description="batches")
    def n_batches(self, generator: ExternalGenerator) -> int:
        return generator._n_batches


@admin.register(GenerationBatch)
class GenerationBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "run",
        "generator",
        "n_pieces",
        "bars",
        "seed_strategy",
        "sampling_mode",
        "temperature",
        "status",
        "created",
    )
    list_filter = ("status", "seed_strategy", "sampling_mode", "run__model_kind", "generator")
    search_fields = ("task_id", "message", "error")
    list_select_related = ("run", "generator")
    readonly_fields = ("task_id", "created", "started", "finished")
    inlines = [GeneratedPieceInline]


@admin.register(GeneratedPiece)
class GeneratedPieceAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "batch",
        "index",
        "piece",
        "n_notes",
        "longest_verbatim_beats",
        "ngram_share",
    )
    list_filter = ("batch__run__model_kind", "batch__generator", "batch")
    list_select_related = ("batch", "piece")
    search_fields = ("piece__name",)

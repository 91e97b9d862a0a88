"""Admin for corpora, pieces, training runs, generation batches and their samples."""

from django.contrib import admin
from django.db.models import Count

from generation.models import Corpus, GeneratedPiece, GenerationBatch, Piece, TrainingRun


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
    fields = ("index", "piece", "n_notes", "longest_verbatim_beats", "ngram_share")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(GenerationBatch)
class GenerationBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "run",
        "n_pieces",
        "bars",
        "seed_strategy",
        "sampling_mode",
        "temperature",
        "status",
        "created",
    )
    list_filter = ("status", "seed_strategy", "sampling_mode", "run__model_kind")
    search_fields = ("task_id", "message", "error")
    list_select_related = ("run",)
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
    list_filter = ("batch__run__model_kind", "batch")
    list_select_related = ("batch", "piece")
    search_fields = ("piece__name",)

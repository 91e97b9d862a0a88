"""Reads a study from the database into the plain tables the statistics take.

This is the only module of the evaluation core that touches Django models; everything downstream
(summary, exports, plots) works on the tidy answer table and the funnel it returns. Participants
are identified by their database id, never by their token: the token is the participant's key to
resume the study and must not leave the server in an export.

A researcher's preview sessions are left out here, where answers and participants are read, so no
table, statistic, funnel count or export built downstream can include them.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import QuerySet

from evaluation import pairs, tidy
from evaluation.music_metrics import compare_sets
from surveys.exclusion import ParticipantFacts, exclusion_reason
from surveys.models import Answer, Participant, Study, StudyStimulus, Trial

ANSWER_FIELDS = {
    "participant_id": tidy.PARTICIPANT,
    "trial__item__stimulus_id": tidy.ITEM,
    "trial__item__source_kind": tidy.SOURCE_KIND,
    "trial__item__source": tidy.SOURCE,
    "trial__item__batch_id": tidy.BATCH,
    "judged_human": tidy.JUDGED_HUMAN,
    "correct": tidy.CORRECT,
    "confidence": tidy.CONFIDENCE,
    "musicality": tidy.MUSICALITY,
    "response_ms": tidy.RESPONSE_MS,
    "plays": tidy.PLAYS,
}
PARTICIPANT_FIELDS = (
    "id",
    "consented_at",
    "headphone_correct",
    "headphone_passed",
    "attention_failed",
    "attention_passed",
    "completed_at",
    "musical_training_years",
    "gold_msi_training",
    "non_musician",
    "music_experience",
    "excluded",
    "exclusion_reason",
)
PAIR_ANSWER_FIELDS = (
    "participant_id",
    "trial__item__stimulus_id",
    "trial__item__source_kind",
    "trial__item__source",
    "trial__item__batch_id",
    "trial__item_b__stimulus_id",
    "trial__item_b__source",
    "trial__item_b__batch_id",
    "choice",
    "confidence",
    "response_ms",
    "plays",
)


# The objective metrics' tables that compare no model with the human pieces.
MEMORISATION = "memorisation"
UNREADABLE = "unreadable"


def counted_participants(study: Study) -> QuerySet[Participant]:
    """The study's participants whose answers count: everyone but the researchers' previews."""
    return Participant.objects.filter(study=study, preview=False)


def _optional(value, kind):
    """A database value that may be NULL (NaN/None after pandas) as ``kind`` or None."""
    return None if value is None or pd.isna(value) else kind(value)


def _participants(study: Study, answers: pd.DataFrame) -> pd.DataFrame:
    """One row per participant who started, with the exclusion decision in force.

    Completed participants carry the decision stored at completion under the frozen rules. For
    those still in progress (or who left) the same rules are applied to what is known so far, so
    their partial answers are kept or dropped by the rules and not by accident.
    """
    rows = pd.DataFrame.from_records(
        counted_participants(study).order_by("id").values(*PARTICIPANT_FIELDS),
        columns=list(PARTICIPANT_FIELDS),
    )
    median_ms = answers.groupby(tidy.PARTICIPANT)[tidy.RESPONSE_MS].median()
    rules = study.rules
    reasons = []
    for row in rows.itertuples():
        if pd.notna(row.completed_at):  # NULL arrives as NaT once anyone has completed
            reasons.append(row.exclusion_reason if row.excluded else "")
            continue
        facts = ParticipantFacts(
            completed=False,
            headphone_correct=None
            if pd.isna(row.headphone_correct)
            else int(row.headphone_correct),
            attention_failed=None if pd.isna(row.attention_failed) else int(row.attention_failed),
            musical_training_years=(
                None if pd.isna(row.musical_training_years) else row.musical_training_years
            ),
            median_response_ms=median_ms.get(str(row.id)),
        )
        reasons.append(exclusion_reason(rules, facts))
    rows["reason"] = reasons
    return rows


def exclusion_reasons(study: Study) -> dict[int, str]:
    """Each counted participant's exclusion under the study's rules ("" when kept), decided as
    the answer and pair tables decide it, for exports that list participants without answers."""
    timings = pd.DataFrame.from_records(
        Answer.objects.filter(
            participant__in=counted_participants(study), trial__kind=Trial.Kind.EXPERIMENTAL
        ).values_list("participant_id", "response_ms"),
        columns=[tidy.PARTICIPANT, tidy.RESPONSE_MS],
    )
    timings[tidy.PARTICIPANT] = timings[tidy.PARTICIPANT].astype(str)
    people = _participants(study, timings)
    return dict(zip(people["id"], people["reason"], strict=True))


def preregistered_margin(study: Study) -> float:
    """The equivalence margin fixed with the study's rules, as a proportion."""
    return study.rules["equivalence_margin_points"] / 100


def preregistered_d_prime_margin(study: Study) -> float:
    """The d' equivalence margin fixed with the study's rules."""
    return float(study.rules["equivalence_margin_d_prime"])


def preregistered_pair_margin(study: Study) -> float:
    """The pair design's margin around 50% for "indistinguishable", as a proportion."""
    return study.rules["equivalence_margin_pair_points"] / 100


def _batch_text(batch) -> str:
    return "" if batch is None or pd.isna(batch) else str(int(batch))


def _per_participant(people: pd.DataFrame) -> pd.DataFrame:
    """Participant-level columns repeated on each answer row, by participant id as text."""
    return pd.DataFrame(
        {
            tidy.PARTICIPANT: people["id"].astype(str),
            tidy.MUSICAL_TRAINING_YEARS: pd.to_numeric(people["musical_training_years"]),
            tidy.GOLD_MSI_TRAINING: pd.to_numeric(people["gold_msi_training"]),
            # Unknown training (questionnaire not reached) counts with the others, not as a
            # non-musician: the breakdown is "non-musicians vs everyone else".
            tidy.NON_MUSICIAN: people["non_musician"].eq(True),
            tidy.ATTENTION_PASSED: people["attention_passed"].eq(True),
            tidy.HEADPHONE_PASSED: people["headphone_passed"].eq(True),
            tidy.COMPLETED: people["completed_at"].notna(),
            tidy.EXCLUDED: people["reason"] != "",
            tidy.EXCLUSION_REASON: people["reason"],
        }
    )


def _funnel(people: pd.DataFrame, per: pd.DataFrame) -> pd.DataFrame:
    return tidy.validate_funnel(
        pd.DataFrame(
            {
                tidy.PARTICIPANT: per[tidy.PARTICIPANT],
                tidy.STARTED: True,
                tidy.CONSENTED: people["consented_at"].notna(),
                tidy.HEADPHONE_PASSED: per[tidy.HEADPHONE_PASSED],
                tidy.ATTENTION_PASSED: per[tidy.ATTENTION_PASSED],
                tidy.COMPLETED: per[tidy.COMPLETED],
            }
        )
    )


def pair_answer_tables(study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A pair study's pair table (evaluation.pairs; experimental pairs only) and its funnel."""
    values = (
        Answer.objects.filter(
            participant__in=counted_participants(study), trial__kind=Trial.Kind.EXPERIMENTAL
        )
        .order_by("participant_id", "trial__position")
        .values_list(*PAIR_ANSWER_FIELDS)
    )
    rows = []
    for pid, a_item, a_kind, a_source, a_batch, b_item, b_source, b_batch, choice, *rest in values:
        human_first = a_kind == tidy.HUMAN
        human, machine = (a_item, b_item) if human_first else (b_item, a_item)
        chose_a = choice == "a"
        rows.append(
            {
                pairs.PARTICIPANT: str(pid),
                pairs.PAIR: f"{human}+{machine}",
                pairs.HUMAN_ITEM: str(human),
                pairs.MACHINE_ITEM: str(machine),
                pairs.SOURCE: b_source if human_first else a_source,
                pairs.BATCH: _batch_text(b_batch if human_first else a_batch),
                pairs.HUMAN_FIRST: human_first,
                pairs.CHOSE_A: chose_a,
                pairs.CORRECT: chose_a == human_first,
                pairs.CONFIDENCE: rest[0],
                pairs.RESPONSE_MS: rest[1],
                pairs.PLAYS: rest[2],
            }
        )
    answers = pd.DataFrame(rows, columns=list(pairs.ANSWER_COLUMNS))
    people = _participants(study, answers)
    per = _per_participant(people)
    per[pairs.EXPERIENCE] = people["music_experience"].fillna("").astype(str)
    funnel = _funnel(people, per)
    if answers.empty:
        return pairs.empty(), funnel
    frame = answers.merge(per, on=pairs.PARTICIPANT, how="left", validate="many_to_one")
    frame.insert(0, pairs.STUDY, study.slug)
    return pairs.validate(frame[list(pairs.COLUMNS)]), funnel


def answer_tables(study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The study's tidy answer table (experimental trials only) and its participant funnel."""
    values = (
        Answer.objects.filter(
            participant__in=counted_participants(study), trial__kind=Trial.Kind.EXPERIMENTAL
        )
        .order_by("participant_id", "trial__position")
        .values_list(*ANSWER_FIELDS)
    )
    answers = pd.DataFrame.from_records(values, columns=list(ANSWER_FIELDS.values()))
    answers[tidy.PARTICIPANT] = answers[tidy.PARTICIPANT].astype(str)
    answers[tidy.ITEM] = answers[tidy.ITEM].astype(str)
    answers[tidy.BATCH] = answers[tidy.BATCH].map(lambda b: "" if pd.isna(b) else str(int(b)))
    truth = answers[tidy.JUDGED_HUMAN] == (answers[tidy.SOURCE_KIND] == tidy.HUMAN)
    answers[tidy.CORRECT] = answers[tidy.CORRECT].where(answers[tidy.CORRECT].notna(), truth)

    people = _participants(study, answers)
    per = _per_participant(people)
    frame = answers.merge(per, on=tidy.PARTICIPANT, how="left", validate="many_to_one")
    frame.insert(0, tidy.STUDY, study.slug)
    funnel = _funnel(people, per)
    if frame.empty:
        return tidy.empty(), funnel
    return tidy.validate(frame[list(tidy.COLUMNS)]), funnel


def _pool(study: Study):
    return (
        StudyStimulus.objects.filter(study=study, role=StudyStimulus.Role.POOL)
        .select_related("stimulus__piece")
        .order_by("id")
    )


def memorisation_table(study: Study) -> pd.DataFrame:
    """Per model in the pool: how much its excerpts' pieces copy the training data."""
    rows = []
    for item in _pool(study).filter(source_kind=tidy.MACHINE):
        for sample in item.stimulus.piece.generations.all():
            rows.append(
                {
                    "source": item.source,
                    "longest_verbatim_beats": sample.longest_verbatim_beats,
                    "ngram_share": sample.ngram_share,
                }
            )
    if not rows:
        return pd.DataFrame(columns=["source"]).set_index("source")
    frame = pd.DataFrame(rows)
    table = frame.groupby("source").agg(
        pieces=("ngram_share", "size"),
        mean_longest_verbatim_beats=("longest_verbatim_beats", "mean"),
        max_longest_verbatim_beats=("longest_verbatim_beats", "max"),
        mean_ngram_share=("ngram_share", "mean"),
    )
    return table


def objective_metrics(study: Study) -> dict[str, pd.DataFrame]:
    """Yang-Lerch comparison of each model's pool pieces with the human pool pieces, plus
    memorisation; loads every pool piece's MIDI file, so it is kept off the main report page.

    A piece whose MIDI file cannot be read is listed in an "unreadable" table, not silently
    dropped, and the comparison goes on without it.
    """
    pieces: dict[str, list] = {}
    unreadable = []
    seen: set[int] = set()
    for item in _pool(study):
        piece = item.stimulus.piece
        if piece.pk in seen:
            continue
        seen.add(piece.pk)
        try:
            pieces.setdefault(item.source, []).append(piece.load_midi())
        except Exception as error:  # pretty_midi raises many kinds on a corrupt file
            unreadable.append({"piece": piece.pk, "source": item.source, "error": str(error)[:200]})
    human = pieces.pop(tidy.HUMAN, [])
    tables = {}
    if len(human) >= 2:
        for source, generated in sorted(pieces.items()):
            if generated:
                tables[source] = compare_sets(human, generated)
    memorisation = memorisation_table(study)
    if not memorisation.empty:
        tables[MEMORISATION] = memorisation
    if unreadable:
        tables[UNREADABLE] = pd.DataFrame(unreadable).set_index("piece")
    return tables

"""Speed of the full study report on 100,000 judgments, against baselines run in this process.

Ours: validate the tidy table, build the whole report (rates with two-way cluster-robust intervals,
Holm, TOST, d' per participant, ratings tests, training breakdown, per-item table), draw its
three SVG figures and write its JSON. Baselines: (a) the same report on 10,000 judgments, so the
ratio shows how it scales; (b) a naive pooled binomial rate per source on the 100,000 judgments,
the least a report could compute, so the ratio shows what the honest statistics cost.

    python bench/bench_report.py [--judgments 100000] [--repeat 3]

Wants: the full report on 100,000 judgments in under 2 s on the 2-core development machine.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from evaluation import tidy  # noqa: E402
from evaluation.exports import report_json  # noqa: E402
from evaluation.plots import report_figures  # noqa: E402
from evaluation.simulate import StudyDesign, simulate_study  # noqa: E402
from evaluation.summary import build_report  # noqa: E402

SOURCES = 4  # human + three models
TRIALS_PER_SOURCE = 20


def study(judgments: int):
    participants = judgments // (SOURCES * TRIALS_PER_SOURCE)
    design = StudyDesign(
        model_d_primes={"seq2one-keras": 1.2, "seq2one": 0.6, "seq2seq": 0.1},
        participants=participants,
        trials_per_source=TRIALS_PER_SOURCE,
        items_per_source=60,
        threshold_sd=0.4,
        participant_d_sd=0.3,
        item_sd=0.3,
        excluded_share=0.05,
    )
    return simulate_study(design, seed=0)


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def full_report(frame, funnel) -> None:
    report = build_report(frame, funnel)
    report_figures(report)
    report_json(report)


def pooled_binomial(frame) -> None:
    groups = frame.groupby(tidy.SOURCE, observed=True)[tidy.JUDGED_HUMAN]
    rate, n = groups.mean(), groups.size()
    rate - 1.96 * np.sqrt(rate * (1 - rate) / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    big, big_funnel = study(args.judgments)
    small, small_funnel = study(args.judgments // 10)
    full_report(small, small_funnel)  # warm imports and caches before timing anything

    ours = best_of(args.repeat, lambda: full_report(big, big_funnel))
    report_only = best_of(args.repeat, lambda: build_report(big, big_funnel))
    tenth = best_of(args.repeat, lambda: full_report(small, small_funnel))
    naive = best_of(args.repeat, lambda: pooled_binomial(tidy.validate(big)))

    print(f"judgments: {len(big)} ({big[tidy.PARTICIPANT].nunique()} participants)")
    print(f"full report + figures + JSON: {ours:.3f} s (report alone {report_only:.3f} s)")
    print(f"baseline, same report on {len(small)} judgments: {tenth:.3f} s")
    print(f"  ratio (x10 data): {ours / tenth:.2f}x the time")
    print(f"baseline, validated pooled binomial per source: {naive:.3f} s")
    print(f"  ratio (honest report / naive rates): {ours / naive:.1f}x")
    print(f"target < 2 s: {'met' if ours < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()

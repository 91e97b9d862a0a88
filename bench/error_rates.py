"""Error rates of the report's verdicts on simulated studies, against the estimators they replaced.

Not a speed benchmark: the figures are shares of simulated studies, the same on any machine for the
same --studies and --seed. The baselines run in the same process on the same studies:

- a model's difference from the human rate: the textbook two-way (participant x excerpt)
  cluster-robust variance, as statsmodels computes it (negative values read as 0), against the
  floored variance of evaluation/rates.py; coverage of 95% intervals, standard error over the true
  SD, and the false-pass rate of TOST (alpha 0.05) for a model exactly on the 10-point margin;
- rates near 1: the Wald-t interval on that variance against the report's score intervals
  (evaluation/score_intervals.py); the human excerpts' own rate at 50-98% (coverage, and the size
  of the test of 50% at 50%), a model on the margin below human excerpts judged human 60-95% of
  the time (coverage, false passes), and the power that costs: how often TOST passes a model
  judged human as often as they are;
- d': the mean corrected d' compared with 0 and +-0.3 as it stands ("plain"), against the
  yardstick of evaluation/d_prime_bias.py built for listeners alike, and against the report's,
  which allows for listeners whose own d' spreads up to 0.5; the size of the test of d' = 0 for an
  undetectable model, and the false "cannot tell" rate for a model exactly on the 0.3 margin,
  also with listeners who differ (SD 0.5, and 1.0 beyond the yardstick's range); and what the
  range costs: how often each finds "cannot tell" at d' = 0 and "can tell" at d' = +0.3;
- musicality ratings: how often Mann-Whitney U finds a model rated differently from the human
  excerpts when it is not (excerpts differing), by excerpt and by judgment;
- the pair design's pc: the three-way variance (participant, person's excerpt, machine's excerpt)
  against clustering by the pair, in studies at BachBot's scale where excerpts differ; coverage at
  pc 0.6, the test of 50% at pc 0.5, TOST's false "indistinguishable" at pc 0.6 (10-point margin).

    python bench/error_rates.py [--studies 1000] [--seed 0]

Wants: coverage >= 93% and false passes <= 6% for the rates and pairs, sizes <= 6% for d'
(alpha 5%).
The README's statistics table quotes this script's output.
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402

from evaluation import tidy  # noqa: E402
from evaluation.calibration import (  # noqa: E402
    D_PRIME_DESIGNS,
    D_PRIME_SPREAD_DESIGNS,
    MODEL,
    PAIR_DESIGNS,
    RATE_DESIGNS,
    RATING_DESIGNS,
    DPrimeErrors,
    d_prime_errors,
    difference_errors,
    equivalence_power,
    on_the_margin,
    pair_errors,
    rate_errors,
    rating_errors,
    with_human_rate,
)
from evaluation.simulate import StudyDesign, simulate_study  # noqa: E402

MARGIN, D_MARGIN, ALPHA = 0.10, 0.3, 0.05
NEAR_ONE_DESIGNS = (
    "100 x 10 of 40 excerpts, criterion SD 1.0, excerpt SD 0",
    "40 x all 8 excerpts, criterion SD 0.5, excerpt SD 0.3",
    "20 x 5 of 10 excerpts, criterion SD 0.5, excerpt SD 0.3",
)


def textbook(design: StudyDesign, studies: int, seed: int) -> tuple[float, float, float]:
    """Coverage, SE / SD and false-pass rate with statsmodels' two-way clustered variance."""
    design = on_the_margin(design, MARGIN)
    estimates, variances, covered, passed = [], [], 0, 0
    for study in range(seed, seed + studies):
        frame, _ = simulate_study(design, seed=study)
        model = (frame[tidy.SOURCE] == MODEL).to_numpy(float)
        clusters = np.column_stack(
            [pd.factorize(frame[tidy.PARTICIPANT])[0], pd.factorize(frame[tidy.ITEM])[0]]
        )
        fit = sm.OLS(
            frame[tidy.JUDGED_HUMAN].to_numpy(float), np.column_stack([np.ones_like(model), model])
        ).fit(cov_type="cluster", cov_kwds={"groups": clusters})
        diff, se = fit.params[1], np.sqrt(max(fit.cov_params()[1, 1], 0.0))
        df = min(frame[tidy.PARTICIPANT].nunique(), frame[tidy.ITEM].nunique()) - 1
        half = stats.t.ppf(0.975, df) * se
        estimates.append(diff)
        variances.append(se**2)
        covered += bool(abs(diff + MARGIN) <= half)
        reach = stats.t.ppf(1 - ALPHA, df) * se
        passed += bool(diff - reach > -MARGIN and diff + reach < MARGIN)
    se_ratio = float(np.sqrt(np.mean(variances)) / np.std(estimates))
    return covered / studies, se_ratio, passed / studies


def near_one(human_rates: tuple[float, ...]) -> Iterator[tuple[str, float, StudyDesign]]:
    """Each near-one design with its human excerpts judged human at each rate."""
    for name in NEAR_ONE_DESIGNS:
        for rate in human_rates:
            yield name, rate, with_human_rate(RATE_DESIGNS[name], rate)


def shares(errors: DPrimeErrors, verdict: str) -> str:
    """A d' verdict's rate read plainly, against listeners alike, and by the report's yardstick."""
    plain, alike, ours = (getattr(errors, f"{way}{verdict}") for way in ("plain_", "alike_", ""))
    return f"{plain:.1%} -> {alike:.1%} -> {ours:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=1000, help="simulated studies per design")
    parser.add_argument("--seed", type=int, default=0, help="first study's seed")
    args = parser.parse_args()
    n, seed = args.studies, args.seed

    print(f"Difference from human, model on the {MARGIN:.0%} margin, {n} studies per design")
    print("design | coverage (textbook -> ours) | SE/SD | false pass")
    for name, design in RATE_DESIGNS.items():
        old = textbook(design, n, seed)
        new = difference_errors(design, MARGIN, ALPHA, n, seed)
        print(
            f"{name} | {old[0]:.1%} -> {new.coverage:.1%} | {old[1]:.2f} -> {new.se_ratio:.2f}"
            f" | {old[2]:.1%} -> {new.false_pass:.1%}",
            flush=True,
        )
    print("\nRates near 1 (Wald-t -> ours, score intervals): the human excerpts' own rate")
    print("design | human rate | coverage | test of 50% rejects (at 50%: its size)")
    for name, rate, design in near_one((0.5, 0.9, 0.95, 0.98)):
        errors = rate_errors(design, ALPHA, n, seed)
        print(
            f"{name} | {rate:.2f} | {errors.wald_coverage:.1%} -> {errors.coverage:.1%}"
            f" | {errors.wald_rejected:.1%} -> {errors.rejected:.1%}",
            flush=True,
        )
    print("and a model on the margin below them; power: a model judged as human as they are")
    print("design | human rate | coverage | false pass | power")
    for name, rate, design in near_one((0.6, 0.85, 0.9, 0.95)):
        errors = difference_errors(design, MARGIN, ALPHA, n, seed)
        power, wald_power = equivalence_power(design, MARGIN, ALPHA, n, seed)
        print(
            f"{name} | {rate:.2f} | {errors.wald_coverage:.1%} -> {errors.coverage:.1%}"
            f" | {errors.wald_false_pass:.1%} -> {errors.false_pass:.1%}"
            f" | {wald_power:.1%} -> {power:.1%}",
            flush=True,
        )
    print(f"\nMusicality rated alike for model and human excerpts, {n} studies per design")
    print("design | Mann-Whitney U rejects at 5%: by excerpt | by judgment")
    for name, design in RATING_DESIGNS.items():
        rejects = rating_errors(design, ALPHA, n, seed)
        print(f"{name} | {rejects['item']:.1%} | {rejects['judgment']:.1%}", flush=True)
    d_prime_designs = {**D_PRIME_DESIGNS, **D_PRIME_SPREAD_DESIGNS}
    print(f"\nd', {n} studies per design and truth (plain -> listeners alike -> ours)")
    print(
        "design | test of d' = 0 at d' = 0 | TOST at d' = +0.3 | TOST at d' = -0.3"
        " | power: cannot tell at d' = 0, can tell at d' = +0.3 (alike -> ours)"
    )
    for name, design in d_prime_designs.items():
        zero, up, down = (
            d_prime_errors(design, truth, D_MARGIN, ALPHA, n, seed)
            for truth in (0.0, D_MARGIN, -D_MARGIN)
        )
        print(
            f"{name} | {shares(zero, 'rejected')} | {shares(up, 'passed')}"
            f" | {shares(down, 'passed')} | {zero.alike_passed:.1%} -> {zero.passed:.1%},"
            f" {up.alike_rejected:.1%} -> {up.rejected:.1%}",
            flush=True,
        )
    print(f"\nPair design, {n} studies per design and truth (by the pair -> three-way, ours)")
    print("design | coverage at pc 0.6 | told apart at pc 0.5 | indistinguishable at pc 0.6")
    for name, design in PAIR_DESIGNS.items():
        on_margin = pair_errors(design, 0.5 + MARGIN, MARGIN, ALPHA, n, seed)
        at_chance = pair_errors(design, 0.5, MARGIN, ALPHA, n, seed)
        print(
            f"{name} | {on_margin.pair_coverage:.1%} -> {on_margin.coverage:.1%}"
            f" | {at_chance.pair_told_apart:.1%} -> {at_chance.told_apart:.1%}"
            f" | {on_margin.pair_indistinguishable:.1%} -> {on_margin.indistinguishable:.1%}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The stimulus settings a study's excerpts were made with, so attention clips can match them."""

from audio.pipeline import StimulusSpec
from surveys.models import Study


def spec_of(params: dict) -> StimulusSpec:
    """A stimulus's settings, stored either as the spec itself or under a "spec" key."""
    return StimulusSpec.from_dict(params.get("spec", params) if params else {})


def study_stimulus_spec(study: Study) -> StimulusSpec:
    """The one spec shared by the pool; excerpts made with different settings are an error,
    since the clips (and the comparison itself) must match every excerpt."""
    fingerprints = {}
    for params in study.stimuli.values_list("params", flat=True):
        spec = spec_of(params)
        fingerprints[spec.fingerprint()] = spec
    if len(fingerprints) > 1:
        raise ValueError(
            f"the pool mixes {len(fingerprints)} different stimulus settings; "
            "render every excerpt of a study with one set of settings"
        )
    return next(iter(fingerprints.values()), StimulusSpec())

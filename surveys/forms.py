"""Participant and researcher forms. Participant forms accept only the fixed answer choices, so a
tampered post gets a clear error and changes nothing."""

import json

from django import forms

from surveys.exclusion import validate_rules
from surveys.models import Participant, Stimulus, Study
from surveys.questionnaire import ITEMS

SCALE = [(i, str(i)) for i in range(1, 6)]
MAX_MS = 3_600_000
CHOOSE_ONE = "Please choose one answer."


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        required=True, label="I have read the information above and agree to take part."
    )


class HeadphoneForm(forms.Form):
    response = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, widget=forms.RadioSelect
    )


class AnswerForm(forms.Form):
    judgment = forms.ChoiceField(
        choices=[("person", "A person"), ("computer", "A computer")], widget=forms.RadioSelect
    )
    confidence = forms.TypedChoiceField(choices=SCALE, coerce=int, widget=forms.RadioSelect)
    musicality = forms.TypedChoiceField(choices=SCALE, coerce=int, widget=forms.RadioSelect)
    response_ms = forms.IntegerField(min_value=0, max_value=MAX_MS, required=False, initial=0)
    listening_ms = forms.IntegerField(min_value=0, max_value=MAX_MS, required=False, initial=0)
    plays = forms.IntegerField(min_value=0, max_value=1000, required=False, initial=0)
    request_id = forms.CharField(max_length=64, required=False)

    @property
    def judged_human(self) -> bool:
        return self.cleaned_data["judgment"] == "person"


class QuestionnaireForm(forms.Form):
    age_band = forms.ChoiceField(
        label="Your age",
        choices=[("", "Choose…"), *Participant.AgeBand.choices],
        error_messages={"required": CHOOSE_ONE},
    )
    musical_training_years = forms.FloatField(
        label="For how many years have you had music lessons or played an instrument "
        "(including singing)? Write 0 if never.",
        min_value=0,
        max_value=90,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
        error_messages={
            "required": "Please write a number of years (0 if never).",
            "invalid": "Please write a number of years, such as 0, 2 or 3.5.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in ITEMS:
            self.fields[item.key] = forms.TypedChoiceField(
                label=item.text,
                choices=[("", "Choose…"), *((i, text) for i, text in enumerate(item.choices))],
                coerce=int,
                error_messages={"required": CHOOSE_ONE},
            )

    def gold_msi_answers(self) -> dict[str, int]:
        return {item.key: self.cleaned_data[item.key] for item in ITEMS}


class StudyForm(forms.ModelForm):
    """Create or edit a draft study; the pool is chosen from finished excerpts."""

    pool = forms.ModelMultipleChoiceField(
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
            "consent_text",
            "instructions",
            "trials_per_participant",
            "attention_checks",
            "practice_trial",
            "headphone_trials",
            "target_participants",
            "completion_url",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rules_json"].initial = json.dumps(
            self.instance.exclusion_rules or validate_rules({}), indent=2
        )
        if self.instance.pk:
            self.fields["pool"].initial = list(self.instance.stimuli.values_list("id", flat=True))

    def clean_rules_json(self) -> dict:
        try:
            return validate_rules(json.loads(self.cleaned_data["rules_json"]))
        except (json.JSONDecodeError, ValueError) as error:
            raise forms.ValidationError(str(error)) from error

    def clean_trials_per_participant(self) -> int:
        value = self.cleaned_data["trials_per_participant"]
        if value < 2 or value % 2:
            raise forms.ValidationError("Use an even number, at least 2: half of each kind.")
        return value

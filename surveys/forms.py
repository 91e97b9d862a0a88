"""Participant forms: they accept only the fixed answer choices, so a tampered post gets a clear
error and changes nothing. The researcher's study form is in dashboard/forms.py."""

import re

from django import forms
from django.core import signing

from surveys.models import Participant
from surveys.questionnaire import EXPERIENCE_LEVELS, ITEMS, MAX_TRAINING_YEARS

SCALE = [(i, str(i)) for i in range(1, 6)]
MAX_MS = 3_600_000
CHOOSE_ONE = "Please choose one answer."
# The study link's Prolific parameters and the participant fields that store them.
PROLIFIC_PARAMS = {
    "PROLIFIC_PID": "prolific_pid",
    "STUDY_ID": "prolific_study_id",
    "SESSION_ID": "prolific_session_id",
}
_START_SALT = "surveys.consent.start"
TOKEN = "token"


def sign_start(slug: str, fields: dict[str, str], token: str) -> str:
    """What the study link carried, and the token this consent page offers its participant,
    signed for the consent form's hidden field of this study alone.

    The token makes one consent page one participant: posted twice (a double tap, a retry)
    it finds the row its first post made, and no one else can name that row, whatever
    Prolific id they bring.
    """
    return signing.dumps({**fields, TOKEN: token}, salt=f"{_START_SALT}:{slug}")


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        required=True, label="I have read the information above and agree to take part."
    )
    start = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, slug: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.slug = slug

    def clean_start(self) -> dict[str, str]:
        """The study link's Prolific fields and the page's token, as this site signed them for
        this study; a forged value is refused rather than stored under someone else's id."""
        raw = self.cleaned_data["start"]
        if not raw:
            return {}
        try:
            fields = signing.loads(raw, salt=f"{_START_SALT}:{self.slug}")
        except signing.BadSignature:
            raise forms.ValidationError(
                "This page was changed on its way. Please open the study link again."
            ) from None
        known = {*PROLIFIC_PARAMS.values(), TOKEN}
        return {k: str(v)[:64] for k, v in fields.items() if k in known}


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


class PairAnswerForm(forms.Form):
    """Pair design: which of the two excerpts a person composed, and how sure."""

    choice = forms.ChoiceField(
        choices=[("a", "Excerpt A"), ("b", "Excerpt B")], widget=forms.RadioSelect
    )
    confidence = forms.TypedChoiceField(choices=SCALE, coerce=int, widget=forms.RadioSelect)
    response_ms = forms.IntegerField(min_value=0, max_value=MAX_MS, required=False, initial=0)
    listening_ms = forms.IntegerField(min_value=0, max_value=MAX_MS, required=False, initial=0)
    plays = forms.IntegerField(min_value=0, max_value=1000, required=False, initial=0)
    request_id = forms.CharField(max_length=64, required=False)


class YearsField(forms.FloatField):
    """A number of years as people write it: "1.5", or "1,5" where a comma marks decimals. It is
    typed into a text box with a decimal keypad rather than a number box, because a number box
    in a comma locale may send nothing at all for "1,5" (then "required" is all the participant
    hears) while a text box sends what was typed."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if re.fullmatch(r"\d+,\d{3}", value):  # 1,000: a thousands comma, or 1.000 years?
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            if value.count(",") == 1 and "." not in value:
                value = value.replace(",", ".")
        return super().to_python(value)


class QuestionnaireForm(forms.Form):
    age_band = forms.ChoiceField(
        label="Your age",
        choices=[("", "Choose…"), *Participant.AgeBand.choices],
        error_messages={"required": CHOOSE_ONE},
    )
    musical_training_years = YearsField(
        label="For how many years have you had music lessons or played an instrument "
        "(including singing)? Write 0 if never.",
        min_value=0,
        max_value=MAX_TRAINING_YEARS,
        error_messages={
            "required": "Please write a number of years (0 if never).",
            "invalid": "Please write a number of years, such as 0, 2 or 3.5.",
            "min_value": "Please write 0 or more years (0 if never).",
            "max_value": f"Please write at most {MAX_TRAINING_YEARS:g} years.",
        },
    )

    def __init__(self, *args, ask_experience: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if ask_experience:
            self.fields["music_experience"] = forms.ChoiceField(
                label="How would you describe your experience with music?",
                choices=[("", "Choose…"), *EXPERIENCE_LEVELS],
                error_messages={"required": CHOOSE_ONE},
            )
        for item in ITEMS:
            self.fields[item.key] = forms.TypedChoiceField(
                label=item.text,
                choices=[("", "Choose…"), *((i, text) for i, text in enumerate(item.choices))],
                coerce=int,
                error_messages={"required": CHOOSE_ONE},
            )

    def gold_msi_answers(self) -> dict[str, int]:
        return {item.key: self.cleaned_data[item.key] for item in ITEMS}

"""The short questionnaire: the seven Gold-MSI musical-training items and their score.

Gold-MSI (Muellensiefen, Gingras, Musil & Stewart 2014), "Musical Training" factor: seven items,
each scored 1..7 (two agreement items reversed), summed to 7..49. With the plain count of years
of training it tells non-musicians apart.
"""

from dataclasses import dataclass

# The self-rated experience levels BachBot grouped its listeners by (Liang et al. 2017), asked
# when a study wants that breakdown; in this order in reports.
EXPERIENCE_LEVELS = (
    ("novice", "Novice: I listen to music but have little or no training"),
    ("intermediate", "Intermediate: I play or sing a little, or have had some lessons"),
    ("advanced", "Advanced: I have played or sung for years, or studied music"),
    ("expert", "Expert: I am a professional musician, or teach or study music at university"),
)

# The most years of musical training the questionnaire accepts; the non-musician cut lies below.
MAX_TRAINING_YEARS = 90

AGREE = (
    "Completely disagree",
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
    "Completely agree",
)


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    choices: tuple[str, ...]  # seven, scored 1..7 in this order unless reversed
    reversed: bool = False


ITEMS = (
    Item(
        "mt1", "I have never been complimented for my talents as a musical performer.", AGREE, True
    ),
    Item("mt2", "I would not consider myself a musician.", AGREE, True),
    Item(
        "mt3",
        "I engaged in regular, daily practice of a musical instrument (including voice) for:",
        ("0 years", "1 year", "2 years", "3 years", "4-5 years", "6-9 years", "10 or more years"),
    ),
    Item(
        "mt4",
        "At the peak of my interest, I practised my main instrument (including voice) for:",
        ("0 hours a day", "0.5 hours", "1 hour", "1.5 hours", "2 hours", "3-4 hours", "5 or more"),
    ),
    Item(
        "mt5",
        "I have had formal training in music theory for:",
        ("0 years", "0.5 years", "1 year", "2 years", "3 years", "4-6 years", "7 or more years"),
    ),
    Item(
        "mt6",
        "I have had formal training on a musical instrument (including voice) for:",
        ("0 years", "0.5 years", "1 year", "2 years", "3-5 years", "6-9 years", "10 or more years"),
    ),
    Item(
        "mt7",
        "I can play this many musical instruments:",
        ("0", "1", "2", "3", "4", "5", "6 or more"),
    ),
)


def item_score(item: Item, choice_index: int) -> int:
    """1..7 for the choice at choice_index (0-based), reversed where the item says so."""
    if not 0 <= choice_index < len(item.choices):
        raise ValueError(f"{item.key}: choice {choice_index} is not one of 0..6")
    return len(item.choices) - choice_index if item.reversed else choice_index + 1


def training_score(answers: dict[str, int]) -> float:
    """Sum of the seven item scores (7..49); every item must be answered."""
    missing = [item.key for item in ITEMS if item.key not in answers]
    if missing:
        raise ValueError(f"unanswered Gold-MSI items: {missing}")
    return float(sum(item_score(item, answers[item.key]) for item in ITEMS))

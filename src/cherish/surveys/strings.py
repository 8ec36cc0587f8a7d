"""The words respondents read (the answer page, invitations), by key, ready for translation: a language is one more
catalog with the same keys (English is shipped; ``tests/surveys`` checks every catalog has every key)."""

from __future__ import annotations

CATALOGS: dict[str, dict[str, str]] = {
    "en": {
        "invitation_intro": "We would love to hear how it went. It takes a minute.",
        "reminder_subject": "A reminder: {title}",
        "answer_here": "Answer here",
        "scale_nps": "0 is not at all likely, 10 is extremely likely.",
        "scale_csat": "1 is very dissatisfied, 5 is very satisfied.",
        "scale_ces": "1 is very difficult, 7 is very easy.",
        "low_nps": "Not at all likely", "high_nps": "Extremely likely",
        "low_csat": "Very dissatisfied", "high_csat": "Very satisfied",
        "low_ces": "Very difficult", "high_ces": "Very easy",
        "low_rating": "Lowest", "high_rating": "Highest",
        "required": "required",
        "optional": "optional",
        "send": "Send my answer",
        "save": "Save and finish later",
        "saved": "Your answers so far are saved. Come back to this page to finish.",
        "missing": "Please answer: {question}",
        "invalid": "That answer is not one of the choices: {question}",
        "too_long": "That answer is too long (at most {most} characters): {question}",
        "thanks_title": "Thank you",
        "reward": "Your reward code",
        "gone_title": "This survey is closed",
        "gone_answered": "This survey was already answered. Thank you: we read every answer.",
        "gone_expired": "This survey has expired. Thank you for thinking of us.",
        "gone_closed": "This survey is not open any more. Thank you for thinking of us.",
        "not_found_title": "This link does not work",
        "not_found": "The link may be cut short; open it again from the message it came in.",
        "problems": "There is a problem with your answer",
    },
}
LANGUAGE = "en"


def say(key: str, language: str = LANGUAGE, **values: object) -> str:
    """The words for ``key`` in ``language`` (English where a catalog lacks them), with ``values`` filled in."""
    words = CATALOGS.get(language, {}).get(key) or CATALOGS[LANGUAGE][key]
    return words.format(**values) if values else words

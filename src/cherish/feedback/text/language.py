"""The language of a comment (py3langid: a naive Bayes model over byte n-grams that comes inside its PyPI package).

Customers mostly write in the business's language, and short comments ("Great!", "ok") carry too little to tell:
a comment counts as another language only when the model is confident of it (probability at least 0.5), and the
creoles the model confuses with English count as English."""

from __future__ import annotations

from functools import cache
from typing import Any

CONFIDENT = 0.5
_AS_ENGLISH = {"en", "pcm", "sco", "jam"}  # Nigerian Pidgin, Scots, Jamaican Patois: short English reads as them


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> str:
    """An ISO 639 code: ``en`` unless the model is confident of another language."""
    found, probability = _identifier().classify(text)
    if found in _AS_ENGLISH or probability < CONFIDENT:
        return "en"
    return str(found)

"""Text models: language models (and their Kneser-Ney baseline)."""

from applied_ml.text.language_model import LanguageModel
from applied_ml.text.ngram import NGramLanguageModel

__all__ = ["LanguageModel", "NGramLanguageModel"]

"""Text models: language models (and their Kneser-Ney baseline)."""

from applied_ml.text.ngram import NGramLanguageModel

__all__ = ["NGramLanguageModel"]

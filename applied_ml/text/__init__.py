"""Text models: sentiment classification, language models (and their Kneser-Ney
baseline)."""

from applied_ml.text.language_model import LanguageModel
from applied_ml.text.ngram import NGramLanguageModel
from applied_ml.text.sentiment import SentimentClassifier
from applied_ml.text.text_plots import plot_token_contributions

__all__ = [
    "LanguageModel",
    "NGramLanguageModel",
    "SentimentClassifier",
    "plot_token_contributions",
]

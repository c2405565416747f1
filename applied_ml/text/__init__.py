"""Text models: sentiment classification, language models (and their Kneser-Ney
baseline), word embeddings."""

from applied_ml.text.bias import (
    direct_bias,
    neighbour_bias,
    projections,
    recovery_accuracy,
    weat,
)
from applied_ml.text.debias import EmbeddingDebiaser, gender_word_lists
from applied_ml.text.embedding_plots import plot_bias, plot_projection
from applied_ml.text.embeddings import WordEmbeddings
from applied_ml.text.language_model import LanguageModel
from applied_ml.text.ngram import NGramLanguageModel
from applied_ml.text.sentiment import SentimentClassifier
from applied_ml.text.text_plots import plot_token_contributions

__all__ = [
    "EmbeddingDebiaser",
    "LanguageModel",
    "NGramLanguageModel",
    "SentimentClassifier",
    "WordEmbeddings",
    "direct_bias",
    "gender_word_lists",
    "neighbour_bias",
    "plot_bias",
    "plot_projection",
    "plot_token_contributions",
    "projections",
    "recovery_accuracy",
    "weat",
]

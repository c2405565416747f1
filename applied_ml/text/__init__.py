"""Text models: sentiment classification, language models (and their Kneser-Ney
baseline), word embeddings."""

from applied_ml.text.embedding_plots import plot_bias, plot_projection
from applied_ml.text.embeddings import WordEmbeddings
from applied_ml.text.language_model import LanguageModel
from applied_ml.text.ngram import NGramLanguageModel
from applied_ml.text.sentiment import SentimentClassifier
from applied_ml.text.text_plots import plot_token_contributions

__all__ = [
    "LanguageModel",
    "NGramLanguageModel",
    "SentimentClassifier",
    "WordEmbeddings",
    "plot_bias",
    "plot_projection",
    "plot_token_contributions",
]

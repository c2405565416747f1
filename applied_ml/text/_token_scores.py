"""Held-out scores shared by the language models: bits, perplexity, score."""

from sklearn.utils.validation import check_is_fitted

from applied_ml.text._corpus import as_documents


class TokenScoresMixin:
    """``score``, ``perplexity`` and ``bits_per_char`` from ``_token_bits``.

    A model defines ``_token_bits(documents)``: the total bits of the
    documents' tokens (each document's end included), the number of tokens
    and the number of characters (each end counting as one).
    """

    def score(self, X, y=None) -> float:
        """Negative mean bits per token (greater is better, as scikit-learn wants).

        Parameters
        ----------
        X : str, path, sequence of str or tf.data.Dataset
            Held-out documents; each one's end counts as a token.
        y : None
            Ignored.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        bits, tokens, _ = self._token_bits(as_documents(X, "X"))
        return float(-bits / tokens)

    def perplexity(self, X) -> float:
        """``2 ** (bits per token)`` of held-out documents (ends included).

        Parameters
        ----------
        X : str, path, sequence of str or tf.data.Dataset
            Held-out documents.

        Returns
        -------
        float
        """
        return float(2.0 ** -self.score(X))

    def bits_per_char(self, X) -> float:
        """Bits per character of held-out documents, each end counting as one.

        For word models, the bits of all tokens over the characters of the
        text; a word model does not predict the spaces between words, so
        compare bits per character within one ``level`` only.

        Parameters
        ----------
        X : str, path, sequence of str or tf.data.Dataset
            Held-out documents.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        bits, _, chars = self._token_bits(as_documents(X, "X"))
        return float(bits / chars)

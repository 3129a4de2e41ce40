"""
The pipeline's CBOR for Python values (design.md §3): numpy arrays travel as RFC 8746 typed
arrays inside the multi-dimensional array tag 40 `[shape, typedarray]`, as the Node side writes
and reads them; numpy scalars as plain numbers; tuples as lists.
"""
from typing import Any

import cbor2
import numpy as np

MULTI_DIMENSIONAL_ARRAY = 40
# RFC 8746 little-endian typed-array tags by (kind, itemsize)
TYPED_ARRAY_TAGS = {
    ("u", 1): 64, ("u", 2): 69, ("u", 4): 70, ("u", 8): 71,
    ("i", 1): 72, ("i", 2): 77, ("i", 4): 78, ("i", 8): 79,
    ("f", 4): 85, ("f", 8): 86,
}
TAG_DTYPES = {tag: np.dtype(f"<{kind}{size}") for (kind, size), tag in TYPED_ARRAY_TAGS.items()}
TAG_DTYPES.update({65: np.dtype(">u2"), 66: np.dtype(">u4"), 67: np.dtype(">u8"), 68: np.dtype("u1"),
                   73: np.dtype(">i2"), 74: np.dtype(">i4"), 75: np.dtype(">i8"),
                   81: np.dtype(">f4"), 82: np.dtype(">f8")})


class UnencodableError(TypeError):
    pass


def _typed_array(array: np.ndarray) -> cbor2.CBORTag:
    if array.dtype.kind == "b":
        array = array.view(np.uint8)
    elif array.dtype.kind == "f" and array.dtype.itemsize == 2:
        array = array.astype(np.float32)
    tag = TYPED_ARRAY_TAGS.get((array.dtype.kind, array.dtype.itemsize))
    if tag is None:
        raise UnencodableError(f"cannot encode a numpy array of dtype {array.dtype}")
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return cbor2.CBORTag(tag, little.tobytes())


def _encode_other(encoder: cbor2.CBOREncoder, value: Any) -> None:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "USO":
            encoder.encode(value.tolist())
        else:
            encoder.encode(cbor2.CBORTag(MULTI_DIMENSIONAL_ARRAY, [list(value.shape), _typed_array(value)]))
    elif isinstance(value, np.generic):
        encoder.encode(value.item())
    else:
        raise UnencodableError(f"cannot encode a {type(value).__module__}.{type(value).__qualname__}: results may hold "
                               "None, bools, numbers, strings, bytes, lists, tuples, dicts and numpy arrays")


def encode(value: Any) -> bytes:
    return cbor2.dumps(value, default=_encode_other)


def _tag_hook(decoder: Any, tag: cbor2.CBORTag) -> Any:
    if tag.tag in TAG_DTYPES and isinstance(tag.value, bytes):
        # a copy: the original's unpickled arrays were writable
        return np.frombuffer(tag.value, TAG_DTYPES[tag.tag]).astype(TAG_DTYPES[tag.tag].newbyteorder("="))
    if tag.tag == MULTI_DIMENSIONAL_ARRAY and isinstance(tag.value, list) and len(tag.value) == 2 \
            and isinstance(tag.value[1], np.ndarray):
        return tag.value[1].reshape(tag.value[0])
    return tag


def _object_hook(decoder: Any, value: dict) -> Any:
    """A TypeScript NDArray `{data, shape, dtype}` (as the TypeScript worker sends it) becomes a numpy array."""
    if len(value) == 3 and isinstance(value.get("data"), np.ndarray) and isinstance(value.get("shape"), list) \
            and isinstance(value.get("dtype"), str):
        array = value["data"].reshape(value["shape"])
        return array.view(np.bool_) if value["dtype"] == "bool" else array
    return value


def decode(data: bytes) -> Any:
    return cbor2.loads(data, tag_hook=_tag_hook, object_hook=_object_hook)

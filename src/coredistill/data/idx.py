"""Reader for the MNIST ``idx`` format (optionally gzipped), with checks that name the bad file."""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

# magic = 0x0000 | type code | number of dimensions; we only need unsigned bytes (0x08).
_UBYTE = 0x08


def read_idx(path: str | Path, expected_ndim: int) -> np.ndarray:
    """Read an idx file of unsigned bytes with ``expected_ndim`` dimensions (3 images, 1 labels)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"idx file {str(path)!r} does not exist") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"idx file {str(path)!r} is not a readable gzip file ({e}): the download may be truncated") from None
    if len(raw) < 4:
        raise DataError(f"idx file {str(path)!r} has {len(raw)} bytes: expected a 4-byte magic number and a header")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != _UBYTE or ndim != expected_ndim:
        raise DataError(
            f"idx file {str(path)!r} has magic number 0x{int.from_bytes(raw[:4], 'big'):08x}: expected "
            f"0x{0x800 | expected_ndim:08x} (unsigned bytes, {expected_ndim} dimensions)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"idx file {str(path)!r} is truncated inside its header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"idx file {str(path)!r} holds {len(raw) - header} data bytes: expected {expected} for shape {dims} "
            "(truncated or corrupt file)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx_file(folder: Path, stem: str) -> Path:
    """``stem`` with or without ``.gz`` (also the ``-idx3.ubyte`` spelling some mirrors use)."""
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"path={str(folder)!r}: expected an idx file named {stem}[.gz] in it, found none")


def load_idx_folder(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four standard files of an MNIST-style folder: train/test images (N, H, W) and labels (N,)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise DataError(f"path={str(folder)!r}: expected a folder holding MNIST-style idx files; {what}")
    out = []
    for split in ("train", "t10k"):
        images = read_idx(find_idx_file(folder, f"{split}-images-idx3-ubyte"), 3)
        labels = read_idx(find_idx_file(folder, f"{split}-labels-idx1-ubyte"), 1)
        if len(images) != len(labels):
            raise DataError(
                f"idx folder {str(folder)!r}: {split} has {len(images)} images but {len(labels)} labels: expected equal counts"
            )
        out += [images, labels]
    return out[0], out[1], out[2], out[3]

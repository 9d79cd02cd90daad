"""Fuzzing the IDX reader (Hypothesis): whatever the bytes, a DatasetError naming the file, or a valid array.

Headers are built from their parts (magic, dimensions, payload) so the fuzzer reaches past the magic-number
check; a header may claim up to 2^32 - 1 images of 2^32 - 1 rows, which must be refused from the length
of the data, without allocating what it claims.
"""
import gzip
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ffnn.data import DatasetError, load_idx_dir, parse_idx, read_idx, IDX_FILES

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MAGICS = st.sampled_from([0x801, 0x803, 0x802, 0x804, 0x800, 0x0803_0000, 0]) | st.integers(0, 2**32 - 1)
DIMS = st.integers(0, 2**32 - 1) | st.integers(0, 5)


def header(magic, dims):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


def check(raw, name="fuzz.idx"):
    """Parse ``raw``: either a uint8 array whose size matches the payload, or a DatasetError naming ``name``."""
    try:
        arr = parse_idx(raw, name)
    except DatasetError as exc:
        assert str(exc).startswith(name + ":"), exc
        return None
    assert arr.dtype == np.uint8 and arr.ndim in (1, 3)
    assert arr.size == len(raw) - (4 + 4 * arr.ndim)
    return arr


@FUZZ
@given(st.binary(max_size=64))
def test_random_bytes(raw):
    check(raw)


@FUZZ
@given(MAGICS, st.lists(DIMS, min_size=0, max_size=4), st.binary(max_size=40))
def test_built_headers(magic, dims, payload):
    check(header(magic, dims) + payload)


@FUZZ
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.data())
def test_truncated_and_mutated_valid_files(n, rows, cols, data):
    arr = np.arange(n * rows * cols, dtype=np.uint8).reshape(n, rows, cols)
    raw = bytearray(header(0x803, arr.shape) + arr.tobytes())
    np.testing.assert_array_equal(check(bytes(raw)), arr)  # the unmutated file reads back
    cut = data.draw(st.integers(0, len(raw) - 1), label="truncate at")
    assert check(bytes(raw[:cut])) is None
    pos = data.draw(st.integers(0, 15), label="header byte")
    raw[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]), label="new value")
    out = check(bytes(raw))
    if out is not None:  # the only header change that can still parse: a different but consistent shape
        assert out.size == arr.size and out.shape != arr.shape


# 769546 * 494770 * 48448661 = 2^64 + 4: a size computed in int64 wraps round to the 4-byte payload.
@pytest.mark.parametrize("dims", [(10**9, 28, 28), (2**32 - 1, 2**32 - 1, 2**32 - 1), (10**9,),
                                  (769546, 494770, 48448661)])
def test_huge_header_is_refused_without_allocating(dims):
    raw = header(0x803 if len(dims) == 3 else 0x801, dims) + bytes(4)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="truncated, header says"):
            parse_idx(raw, "huge.idx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"parsing a {dims} header allocated {peak} bytes"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=64), st.booleans())
def test_files_on_disk_gz_or_raw(tmp_path_factory, raw, gz):
    path = tmp_path_factory.mktemp("idx") / ("f.idx.gz" if gz else "f.idx")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    try:
        read_idx(path)
    except DatasetError as exc:
        assert str(exc).startswith(str(path) + ":"), exc


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=64))
@example(b"\x1f\x8b\x08\x00garbage")  # a gzip magic number followed by junk
def test_corrupt_gzip_names_the_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("idx") / "f.idx.gz"
    path.write_bytes(raw)
    try:
        read_idx(path)
    except DatasetError as exc:
        assert str(exc).startswith(str(path) + ":"), exc


def test_data_dir_with_a_fuzzed_file_names_it(tmp_path):
    rng = np.random.default_rng(0)
    for role, name in IDX_FILES.items():
        n = 6 if role.startswith("train") else 3
        arr = rng.integers(0, 256, (n, 28, 28)) if role.endswith("images") else rng.integers(0, 10, n)
        (tmp_path / name).write_bytes(header(0x803 if arr.ndim == 3 else 0x801, arr.shape)
                                      + arr.astype(np.uint8).tobytes())
    load_idx_dir(tmp_path)  # the clean directory loads
    victim = tmp_path / IDX_FILES["test_labels"]
    victim.write_bytes(victim.read_bytes()[:-1])
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: truncated"):
        load_idx_dir(tmp_path)

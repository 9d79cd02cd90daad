"""Class names and the bundled checksums: edges the other data tests do not reach.

Written for the mutants of data.py that survived the mutation run of 2026-11-26 on the merged code
(tools/mutation_notes.toml).
"""
import pytest

from ffnn import data
from ffnn.data import DIGITS, DatasetError, class_names, read_class_names

LETTERS = tuple("abcdefghij")


def _classes(directory, names):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return directory


def test_a_data_dir_gives_the_class_names_whatever_the_name(tmp_path):
    d = _classes(tmp_path / "letters", LETTERS)
    assert class_names("letters", data_dir=d) == LETTERS  # a name that is no bundled dataset
    assert class_names("mnist", data_dir=d) == LETTERS    # nor is the bundled one's
    assert class_names(str(d)) == LETTERS                 # the name is the directory
    assert class_names("mnist") == DIGITS


def test_a_name_given_twice_is_the_one_named(tmp_path):
    names = ("a", "b", "c", "d", "c", "e", "f", "g", "h", "i")  # 'a' is first and unique; 'c' is there twice
    path = _classes(tmp_path, names) / "classes.txt"
    with pytest.raises(DatasetError, match=rf"^{path}: class name 'c' is given twice$"):
        read_class_names(path)


def test_unreadable_class_names_are_named_with_the_reason(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_bytes(b"\xff\xfe not utf-8\n" * 10)
    with pytest.raises(DatasetError, match=rf"^{path}: cannot read class names \(.*utf-8.*\)$"):
        read_class_names(path)
    with pytest.raises(DatasetError, match=rf"^{tmp_path}: cannot read class names \("):
        read_class_names(tmp_path)  # a directory


def test_sums_written_in_binary_mode_are_read(monkeypatch):
    # `sha256sum -b` marks each name with '*'; the name is what follows it
    class Sums:
        def joinpath(self, name):
            return self

        def read_text(self):
            return "aa11  *train-images-idx3-ubyte.gz\n\nbb22  t10k-labels-idx1-ubyte.gz\n"

    monkeypatch.setattr(data.resources, "files", lambda package: Sums())
    assert data._mnist_sums() == {"train-images-idx3-ubyte.gz": "aa11", "t10k-labels-idx1-ubyte.gz": "bb22"}

"""staff/reference/get_data.py (`make data`): offline build from a course copy, clear download
errors."""

import sys
import types

import pytest

from staff.reference import get_data


def fake_shared(tmp_path):
    """A course data folder whose builder writes an (empty) cifar-10-batches-py/."""
    shared = tmp_path / "shared"
    (shared / "cifar10-jpeg").mkdir(parents=True)
    (shared / "FashionMNIST" / "raw").mkdir(parents=True)
    (shared / "cifar10-jpeg" / "build_cifar10.py").write_text(
        "import pathlib, sys\n"
        "(pathlib.Path(sys.argv[1]) / 'cifar-10-batches-py').mkdir()\n"
    )
    return shared


def test_builds_from_a_course_copy_and_links_fashion_mnist(tmp_path, capsys):
    shared, dest = fake_shared(tmp_path), tmp_path / "data"
    get_data.main([str(dest), "--from-shared", str(shared)])
    assert (dest / "cifar-10-batches-py").is_dir()
    assert (dest / "FashionMNIST").resolve() == (shared / "FashionMNIST").resolve()
    assert f"export HW4_DATA={dest.resolve()}" in capsys.readouterr().out
    get_data.main([str(dest), "--from-shared", str(shared)])  # a second run changes nothing


def test_a_folder_without_the_builder_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no cifar10-jpeg/ builder"):
        get_data.main([str(tmp_path / "data"), "--from-shared", str(tmp_path)])


def test_failed_download_says_how_to_fix(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -2] Name or service not known>")

    datasets = types.SimpleNamespace(CIFAR10=offline, FashionMNIST=offline)
    monkeypatch.setitem(sys.modules, "torchvision", types.SimpleNamespace(datasets=datasets))
    with pytest.raises(SystemExit) as err:
        get_data.download(tmp_path)
    message = str(err.value)
    assert "could not download" in message and "Name or service not known" in message
    assert "cifar-10-batches-py/" in message and "--from-shared" in message

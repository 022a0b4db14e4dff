"""`make data`: put CIFAR-10 and Fashion-MNIST into one folder, for HW4_DATA.

    python staff/reference/get_data.py DEST [--from-shared DIR]

With the course machines' read-only copy (--from-shared, default ../shared/data when it
exists) it builds CIFAR-10 from it and links Fashion-MNIST, offline. Otherwise it downloads
both with torchvision (which checks their md5 sums). Afterwards: export HW4_DATA=DEST.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from handin import module_prog

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = ROOT.parent / "shared" / "data"


def local_copy():
    """The course machines' read-only copy of the data (../shared/data), or None."""
    return DEFAULT_SHARED if (DEFAULT_SHARED / "cifar10-jpeg").is_dir() else None


def from_shared(shared, dest, output=None):
    """Build cifar-10-batches-py/ from `shared`'s builder and link its FashionMNIST/.

    output: a text file for the builder's messages (default: this process's stdout)."""
    if not (dest / "cifar-10-batches-py").is_dir():
        builder = shared / "cifar10-jpeg" / "build_cifar10.py"
        proc = subprocess.run([sys.executable, str(builder), str(dest)], text=True,
                              capture_output=output is not None)
        if output is not None:
            output.write(proc.stdout + proc.stderr)
        proc.check_returncode()
    link = dest / "FashionMNIST"
    if not link.exists():
        link.symlink_to((shared / "FashionMNIST").resolve(), target_is_directory=True)


def download(dest):
    """Download both data sets into `dest` (torchvision's layouts and md5 checks)."""
    import torchvision

    try:
        torchvision.datasets.CIFAR10(root=dest, train=True, download=True)
        for train in (True, False):
            torchvision.datasets.FashionMNIST(root=dest, train=train, download=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        raise SystemExit(
            f"error: could not download the data into {dest}: {err}\n"
            "Fix: connect to the internet and rerun, or copy cifar-10-batches-py/ (or "
            "cifar-10-python.tar.gz) and FashionMNIST/raw/ into that folder yourself, or "
            "pass --from-shared DIR with a course copy of the data."
        ) from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Get CIFAR-10 and Fashion-MNIST into DEST.")
    parser.add_argument("dest", type=Path, help="folder to fill (created if missing)")
    parser.add_argument("--from-shared", type=Path,
                        default=DEFAULT_SHARED if DEFAULT_SHARED.is_dir() else None,
                        help="a course copy of the data (default: ../shared/data if present)")
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    if args.from_shared is not None:
        if not (args.from_shared / "cifar10-jpeg").is_dir():
            raise SystemExit(f"error: {args.from_shared} has no cifar10-jpeg/ builder")
        from_shared(args.from_shared, args.dest)
    else:
        download(args.dest)
    print(f"data ready in {args.dest}; now: export HW4_DATA={args.dest.resolve()}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Download the official CIFAR-10 python archive and unpack it next to this script:
#   neuralnet/cifar-10-batches-py/   (data_batch_1..5, test_batch, batches.meta)
# Idempotent: does nothing when the folder is already there. Checks the archive's md5 and
# deletes a bad download. Usage: bash download_cifar.sh   (from any folder)
# CIFAR10_URL / CIFAR10_MD5 override the source (a mirror; the tests use a local file).
set -euo pipefail

URL="${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz}"
MD5="${CIFAR10_MD5:-c58f30108f718f92721af3b95e74349a}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FOLDER="$HERE/cifar-10-batches-py"
ARCHIVE="$HERE/cifar-10-python.tar.gz"

if [ -f "$FOLDER/data_batch_1" ] && [ -f "$FOLDER/test_batch" ]; then
    echo "CIFAR-10 is already in $FOLDER: nothing to do."
    exit 0
fi

md5_of() {
    if command -v md5sum >/dev/null 2>&1; then md5sum "$1" | cut -d' ' -f1
    else md5 -q "$1"; fi  # macOS
}

if [ ! -f "$ARCHIVE" ] || [ "$(md5_of "$ARCHIVE")" != "$MD5" ]; then
    echo "Downloading CIFAR-10 (163 MB) from $URL ..."
    rm -f "$ARCHIVE.part"
    if command -v curl >/dev/null 2>&1; then
        fetch=(curl -fL --retry 2 --connect-timeout 20 -o "$ARCHIVE.part" "$URL")
    elif command -v wget >/dev/null 2>&1; then
        fetch=(wget -q --tries=2 --timeout=20 -O "$ARCHIVE.part" "$URL")
    else
        echo "error: neither curl nor wget is installed; install one, or download $URL" >&2
        echo "by hand into $HERE and run this script again." >&2
        exit 1
    fi
    if ! "${fetch[@]}"; then
        rm -f "$ARCHIVE.part"
        echo "error: the download failed (are you offline?). Download $URL by hand into" >&2
        echo "$HERE, or set HW4_DATA to a folder that holds cifar-10-batches-py/ or" >&2
        echo "cifar-10-python.tar.gz, or pass --data-dir to train.py / test.py." >&2
        exit 1
    fi
    mv "$ARCHIVE.part" "$ARCHIVE"
fi

actual="$(md5_of "$ARCHIVE")"
if [ "$actual" != "$MD5" ]; then
    rm -f "$ARCHIVE"
    echo "error: bad download (md5 $actual, expected $MD5); deleted it. Run this script again." >&2
    exit 1
fi

echo "Unpacking into $HERE ..."
tar -xzf "$ARCHIVE" -C "$HERE"
rm -f "$ARCHIVE"
echo "CIFAR-10 is ready in $FOLDER"

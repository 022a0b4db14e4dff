"""Section 1 (backprop/, neuralnet/) must work with numpy alone: it never imports PyTorch."""

import os
import re
import subprocess
import sys

import pytest
from kit import BACKPROP_DIR, NEURALNET_DIR

SECTION1_FILES = sorted([*BACKPROP_DIR.glob("*.py"), *NEURALNET_DIR.glob("*.py")])
TORCH_IMPORT = re.compile(r"^\s*(import\s+torch|from\s+torch[\s.])", re.MULTILINE)


@pytest.mark.parametrize("path", SECTION1_FILES, ids=[p.name for p in SECTION1_FILES])
def test_no_torch_import_statement(path):
    assert not TORCH_IMPORT.search(path.read_text()), f"{path} imports torch"


def test_importing_section1_modules_does_not_load_torch():
    modules = [p.stem for p in SECTION1_FILES]
    code = (  # search.py needs the kit's train.py; with another train.py it does not import
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as err:\n"
        "        print(name, err)\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(len(sys.modules), loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    path = os.pathsep.join(map(str, (BACKPROP_DIR, NEURALNET_DIR)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PYTHONPATH=path))
    assert result.returncode == 0, result.stdout + result.stderr
    failed = {line.split()[0] for line in result.stdout.splitlines()[:-1]}
    for module in ("functions", "layers", "two_layer_net"):
        assert module in modules and module not in failed, result.stdout

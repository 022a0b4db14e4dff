"""The reference solution's own runs and data: `make homework` (homework.py) and report.py.

get_data.py fetches the data sets, make_backprop_data.py and make_neuralnet_data.py write the
homework's data files (both with write_data_file, below), fake_fashion_mnist.py writes small
stand-in data, f4_graph.py is the reference f4 as data, layout.py names the driver scripts and
notebook_code.py runs a notebook's code cells as a module.
"""

import argparse
import pickle

from handin import module_prog


def write_data_file(spec, doc, data_file, build_data, argv=None):
    """
    The main() of make_backprop_data.py and make_neuralnet_data.py: no options (--help says
    what the file is, from the first paragraph of `doc`; anything else is an error), then
    build_data() pickled to data_file (protocol 4, so that any numpy can read it).

    Inputs:
    - spec, doc: the writer module's __spec__ and __doc__
    - data_file: the Path to write
    - build_data: function () -> the dict to store
    """
    argparse.ArgumentParser(prog=module_prog(spec),
                            description=doc.split("\n\n")[0]).parse_args(argv)
    with open(data_file, "wb") as f:
        pickle.dump(build_data(), f, protocol=4)
    print(f"wrote {data_file}")

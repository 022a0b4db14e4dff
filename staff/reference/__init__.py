"""The reference solution's own runs and data: `make homework` (homework.py) and report.py.

get_data.py fetches the data sets, make_backprop_data.py and make_neuralnet_data.py write the
homework's data files, fake_fashion_mnist.py writes small stand-in data, f4_graph.py is the
reference f4 as data, layout.py names the driver scripts and notebook_code.py runs a
notebook's code cells as a module.
"""

"""What the student kit holds, for the tools that build it, run it and grade it."""

# The driver and check scripts a student runs (`make check-code` in the kit, the backprop
# stage of `make homework`), in the order the homework introduces them.
DRIVER_SCRIPTS = ("backprop/backprop.py", "neuralnet/gradcheck_layers.py",
                  "neuralnet/check_softmax_stability.py", "neuralnet/gradcheck_classifier.py",
                  "neuralnet/check_training_step.py")

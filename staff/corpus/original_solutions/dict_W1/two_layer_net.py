import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    A neural network with two layers, using a ReLU nonlinearity on its one hidden layer.
    That is, the architecture should be:

    input -> FC layer -> ReLU layer -> FC layer -> scores
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        """
        Initialize a new two layer network.

        Inputs:
        - input_dim: The number of dimensions in the input.
        - num_classes: The number of classes over which to classify
        - hidden_dim: The size of the hidden layer
        - weight_scale: The weight matrices of the model will be initialized
          from a Gaussian distribution with standard deviation equal to
          weight_scale. The bias vectors of the model will always be
          initialized to zero.
        """
        self.params = {}
        self.params['W1'] = np.random.randn(input_dim, hidden_dim) * weight_scale
        self.params['b1'] = np.zeros(hidden_dim)
        self.params['W2'] = np.random.randn(hidden_dim, num_classes) * weight_scale
        self.params['b2'] = np.zeros(num_classes)

    def parameters(self):
        params = self.params
        return params

    def forward(self, X):
        h1, fc1_cache = fc_forward(X, self.params['W1'], self.params['b1'])
        a1, relu_cache = relu_forward(h1)
        scores, fc2_cache = fc_forward(a1, self.params['W2'], self.params['b2'])
        cache = (fc1_cache, relu_cache, fc2_cache)
        return scores, cache

    def backward(self, grad_scores, cache):
        fc1_cache, relu_cache, fc2_cache = cache
        grads = {}
        da1, grads['W2'], grads['b2'] = fc_backward(grad_scores, fc2_cache)
        dh1 = relu_backward(da1, relu_cache)
        _, grads['W1'], grads['b1'] = fc_backward(dh1, fc1_cache)
        return grads

import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    A neural network with two layers, using a ReLU nonlinearity on its one
    hidden layer. That is, the architecture should be:

    input -> FC layer -> ReLU layer -> FC layer -> scores
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        self.fc1_W = np.random.normal(scale=weight_scale, size=(input_dim, hidden_dim))
        self.fc1_b = np.zeros(hidden_dim)
        self.fc2_W = np.random.normal(scale=weight_scale, size=(hidden_dim, num_classes))
        self.fc2_b = np.zeros(num_classes)

    def parameters(self):
        params = {
            'fc1_W': self.fc1_W,
            'fc1_b': self.fc1_b,
            'fc2_W': self.fc2_W,
            'fc2_b': self.fc2_b,
        }
        return params

    def forward(self, X):
        hidden, fc1_cache = fc_forward(X, self.fc1_W, self.fc1_b)
        hidden, relu_cache = relu_forward(hidden)
        scores, fc2_cache = fc_forward(hidden, self.fc2_W, self.fc2_b)
        cache = (fc1_cache, relu_cache, fc2_cache)
        return scores, cache

    def backward(self, grad_scores, cache):
        fc1_cache, relu_cache, fc2_cache = cache
        grad_hidden, grad_fc2_W, grad_fc2_b = fc_backward(grad_scores, fc2_cache)
        grad_hidden = relu_backward(grad_hidden, relu_cache)
        grad_X, grad_fc1_W, grad_fc1_b = fc_backward(grad_hidden, fc1_cache)
        grads = {
            'fc1_W': grad_fc1_W,
            'fc1_b': grad_fc1_b,
            'fc2_W': grad_fc2_W,
            'fc2_b': grad_fc2_b,
        }
        return grads

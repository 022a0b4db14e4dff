import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    A neural network with two layers, using a ReLU nonlinearity on its one
    hidden layer: input -> FC layer -> ReLU layer -> FC layer -> scores
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        self.weight1 = np.random.normal(0, weight_scale, (input_dim, hidden_dim))
        self.bias1 = np.zeros(hidden_dim)
        self.weight2 = np.random.normal(0, weight_scale, (hidden_dim, num_classes))
        self.bias2 = np.zeros(num_classes)

    def parameters(self):
        params = {}
        params['weight1'] = self.weight1
        params['bias1'] = self.bias1
        params['weight2'] = self.weight2
        params['bias2'] = self.bias2
        return params

    def forward(self, X):
        fc1_out, fc1_cache = fc_forward(X, self.weight1, self.bias1)
        relu_out, relu_cache = relu_forward(fc1_out)
        scores, fc2_cache = fc_forward(relu_out, self.weight2, self.bias2)
        return scores, (fc1_cache, relu_cache, fc2_cache)

    def backward(self, grad_scores, cache):
        fc1_cache, relu_cache, fc2_cache = cache
        grads = {}
        grad_relu, grads['weight2'], grads['bias2'] = fc_backward(grad_scores, fc2_cache)
        grad_fc1 = relu_backward(grad_relu, relu_cache)
        _, grads['weight1'], grads['bias1'] = fc_backward(grad_fc1, fc1_cache)
        return grads

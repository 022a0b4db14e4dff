import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    input -> FC layer -> ReLU layer -> FC layer -> scores
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        self.W1 = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.b1 = np.zeros((1, hidden_dim))
        self.W2 = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.b2 = np.zeros((1, num_classes))

    def parameters(self):
        params = {'W1': self.W1, 'b1': self.b1, 'W2': self.W2, 'b2': self.b2}
        return params

    def forward(self, X):
        out1, cache1 = fc_forward(X, self.W1, self.b1)
        out2, cache2 = relu_forward(out1)
        scores, cache3 = fc_forward(out2, self.W2, self.b2)
        cache = (cache1, cache2, cache3)
        return scores, cache

    def backward(self, grad_scores, cache):
        cache1, cache2, cache3 = cache
        grad_out2, grad_W2, grad_b2 = fc_backward(grad_scores, cache3)
        grad_out1 = relu_backward(grad_out2, cache2)
        grad_X, grad_W1, grad_b1 = fc_backward(grad_out1, cache1)
        grads = {'W1': grad_W1, 'b1': grad_b1, 'W2': grad_W2, 'b2': grad_b2}
        return grads

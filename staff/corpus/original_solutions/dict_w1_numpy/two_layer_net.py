import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    input -> FC layer -> ReLU layer -> FC layer -> scores
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        self.params = {
            'w1': weight_scale * np.random.randn(input_dim, hidden_dim),
            'b1': np.zeros(hidden_dim),
            'w2': weight_scale * np.random.randn(hidden_dim, num_classes),
            'b2': np.zeros(num_classes),
        }

    def parameters(self):
        return self.params

    def forward(self, X):
        w1, b1 = self.params['w1'], self.params['b1']
        w2, b2 = self.params['w2'], self.params['b2']
        z1, cache_fc1 = fc_forward(X, w1, b1)
        a1, cache_relu = relu_forward(z1)
        scores, cache_fc2 = fc_forward(a1, w2, b2)
        return scores, (cache_fc1, cache_relu, cache_fc2)

    def backward(self, grad_scores, cache):
        cache_fc1, cache_relu, cache_fc2 = cache
        grad_a1, grad_w2, grad_b2 = fc_backward(grad_scores, cache_fc2)
        grad_z1 = relu_backward(grad_a1, cache_relu)
        _, grad_w1, grad_b1 = fc_backward(grad_z1, cache_fc1)
        return {'w1': grad_w1, 'b1': grad_b1, 'w2': grad_w2, 'b2': grad_b2}

import numpy as np
from classifier import Classifier
from layers import fc_forward, fc_backward, relu_forward, relu_backward


class TwoLayerNet(Classifier):
    """
    input -> FC layer -> ReLU layer -> FC layer -> scores, in float32.
    """
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,
                 weight_scale=1e-3):
        self.params = {}
        self.params['layer1_W'] = (weight_scale * np.random.randn(
            input_dim, hidden_dim)).astype(np.float32)
        self.params['layer2_W'] = (weight_scale * np.random.randn(
            hidden_dim, num_classes)).astype(np.float32)
        self.params['layer1_b'] = np.zeros(hidden_dim, dtype=np.float32)
        self.params['layer2_b'] = np.zeros(num_classes, dtype=np.float32)

    def parameters(self):
        return self.params

    def forward(self, X):
        p = self.params
        h, c1 = fc_forward(X.astype(np.float32), p['layer1_W'], p['layer1_b'])
        h, c2 = relu_forward(h)
        scores, c3 = fc_forward(h, p['layer2_W'], p['layer2_b'])
        return scores, (c1, c2, c3)

    def backward(self, grad_scores, cache):
        c1, c2, c3 = cache
        grads = {}
        dh, grads['layer2_W'], grads['layer2_b'] = fc_backward(grad_scores, c3)
        dh = relu_backward(dh, c2)
        dX, grads['layer1_W'], grads['layer1_b'] = fc_backward(dh, c1)
        return grads

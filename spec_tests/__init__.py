"""The executable spec for custom Keras dense layers: one module per area, one clause per test."""

import os

# TensorFlow's C++ start-up chatter hides the test report; users can still override this.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

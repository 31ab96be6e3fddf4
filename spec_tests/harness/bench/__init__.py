"""The benchmark harness: what is timed (``cases``), how (``contenders``, ``paired``), how it is shown
(``table``, ``plot``), the pytest hooks (``plugin``) and the commands (``python -m spec_tests.harness.bench``)."""

"""Root conftest for this repository's own runs.

When the package is installed (``pip install -e .``) the plugin arrives through
its ``pytest11`` entry point; these lines make a plain checkout work too. Each
entry point is named after the module, so pytest registers it only once.
"""

pytest_plugins = ["spec_tests.plugin", "spec_tests.report", "spec_tests.benchmarking"]

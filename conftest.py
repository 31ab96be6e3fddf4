"""Root conftest for this repository's own runs.

When the package is installed (``pip install -e .``) the harness arrives through
its ``pytest11`` entry point; this line makes a plain checkout work too. The entry
point is named after the module, so pytest registers it only once.
"""

pytest_plugins = ["spec_tests.harness.plugin"]

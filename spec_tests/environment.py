"""Every environment variable the spec reads, by name, in one place (a leaf module: it imports nothing).

The pytest ini keys that mirror them are in :data:`INI_KEYS`. Flags win over environment variables, which win
over the ini file (``spec_tests/harness/selection.py``).
"""

#: Legacy Keras 2 (tf-keras) instead of Keras 3; must be set before TensorFlow is first imported.
LEGACY_KERAS = "TF_USE_LEGACY_KERAS"
#: TensorFlow's switch for its oneDNN kernels ("0" turns them off): the platform's reference configuration.
ONEDNN_OPTS = "TF_ENABLE_ONEDNN_OPTS"
#: Keras 3's backend (tensorflow, jax, torch, numpy).
KERAS_BACKEND = "KERAS_BACKEND"

#: The implementations under test (comma-separated), as --impl.
IMPL = "LAYER_SPEC_IMPL"
#: The profile, as --profile.
PROFILE = "LAYER_SPEC_PROFILE"
#: Capabilities claimed for every implementation of the run, as --capabilities.
CAPABILITIES = "LAYER_SPEC_CAPABILITIES"
#: Options offered by every implementation of the run (comma-separated), as --options.
OPTIONS = "LAYER_SPEC_OPTIONS"
#: Known failures, as --xfail-file.
XFAIL_FILE = "LAYER_SPEC_XFAIL_FILE"
#: 1: advisories and platform outcomes count as failures, as --spec-strict.
STRICT = "LAYER_SPEC_STRICT"
#: A clause's time limit in seconds (pytest-timeout; 0: none), as --clause-timeout.
CLAUSE_TIMEOUT = "LAYER_SPEC_CLAUSE_TIMEOUT"
#: The command that reruns one cause's clauses (set by layer-spec check for its own reruns).
RERUN = "LAYER_SPEC_RERUN"
#: Set by the in-process API: a guest run leaves the host process's devices alone.
KEEP_DEVICES = "LAYER_SPEC_KEEP_DEVICES"
#: Set in the child process that reruns failed clauses under the platform's reference configuration.
PLATFORM_CHILD = "LAYER_SPEC_PLATFORM_CHILD"
#: 1: the platform probe adds a simulated float16 defect while oneDNN is on (the project's own tests use it).
SIMULATE_DEFECT = "LAYER_SPEC_SIMULATE_DEFECT"
#: The golden set the compatibility clauses read, as --spec-golden.
GOLDEN = "LAYER_SPEC_GOLDEN"
#: The layer's own golden configurations, JSON {name: {constructor kwargs}} (for a class without the attribute).
GOLDEN_CONFIGURATIONS = "LAYER_SPEC_GOLDEN_CONFIGURATIONS"

#: Set by the launcher (spec_tests/harness/launcher.py) for its child processes: the parent's import locations,
#: which the child appends to its sys.path (never ahead of the standard library).
IMPORT_PATH = "LAYER_SPEC_IMPORT_PATH"
#: Set by the launcher: the file a child writes one JSON line per clause event to (a crash names its clause).
CLAUSE_LOG = "LAYER_SPEC_CLAUSE_LOG"
#: Set by the launcher: the finished and crashed clauses of an earlier child that died, for the child that resumes.
RESUME = "LAYER_SPEC_RESUME"
#: The Python interpreter the launcher starts children with (default: the running one).
CHILD_PYTHON = "LAYER_SPEC_CHILD_PYTHON"
#: The time limit of each child process the launcher starts, in seconds (default 3600).
CHILD_TIMEOUT = "LAYER_SPEC_CHILD_TIMEOUT"

#: The ini keys (pyproject.toml [tool.pytest.ini_options], pytest.ini, ...) that mirror the variables above.
INI_KEYS = {
    IMPL: "layer_spec_impl",
    PROFILE: "layer_spec_profile",
    CAPABILITIES: "layer_spec_capabilities",
    OPTIONS: "layer_spec_options",
    XFAIL_FILE: "layer_spec_xfail_file",
    STRICT: "layer_spec_strict",
    CLAUSE_TIMEOUT: "layer_spec_clause_timeout",
    GOLDEN: "layer_spec_golden",
    GOLDEN_CONFIGURATIONS: "layer_spec_golden_configurations",
}


def truthy(value) -> bool:
    """How the spec reads an on/off variable: 1, true, yes (any case) are on."""
    return str(value or "").strip().lower() in ("1", "true", "yes")

"""pytest plugin part: fix hints, expected-failure files and the conformance report (to be written)."""

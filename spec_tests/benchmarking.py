"""pytest plugin part: benchmark contenders and the end-of-run ratio table (to be written)."""

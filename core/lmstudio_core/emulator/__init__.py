"""An LM Studio-compatible server for tests, CI and demos."""

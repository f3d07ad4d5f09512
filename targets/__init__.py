"""Systems under test. `targets` never imports `harness`."""

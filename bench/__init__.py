"""The benchmark harness of issue 7 (run with `make bench`); never part of the product or the tests."""

"""The working tree: applying an experiment, confined writes, DVC's lock."""

"""Tests of one module or function at a time, on throwaway repositories: no server, no DVC."""

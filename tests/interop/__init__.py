"""Interoperability: exptui beside real DVC, and against real Git, S3, GCS and SSH servers on
127.0.0.1 (started and stopped by the tests)."""

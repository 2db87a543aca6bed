"""The app, driven through Textual's Pilot, in a real pseudo-terminal, and as snapshots."""

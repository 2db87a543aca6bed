"""exptui's user interfaces: the Textual app and the scriptable command line, both thin
layers over :mod:`core`."""

"""The project: what a repository and its commits say (params, metrics, outputs, config)."""

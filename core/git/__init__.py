"""Git: experiment refs, their exchange with Git remotes, and the connection."""

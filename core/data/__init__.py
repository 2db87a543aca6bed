"""DVC data: objects, the stores that hold them, and moving them."""

"""One module per node type (or family of node types)."""

"""πlot node runners: one handler per node type, deployable per type."""

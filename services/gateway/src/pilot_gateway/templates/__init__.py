"""Built-in templates, template recommendations and workflow suggestions, answered by
the planner over NATS request/reply."""

"""Knowledge bases over HTTP: create one, add documents, list, query (issue #5)."""

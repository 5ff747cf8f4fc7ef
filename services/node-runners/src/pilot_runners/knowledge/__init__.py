"""Knowledge-base tooling of the runner (the retrieval eval); the shared ingestion,
chunking and BM25 code is `pilot_shared.knowledge`."""

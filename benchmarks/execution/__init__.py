"""Execution benchmark (`make bench`): πlot against LangGraph, Celery + Redis and the bare
JetStream round trip, on the same graphs with the same node bodies. See ../README.md."""

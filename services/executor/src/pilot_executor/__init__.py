"""πlot executor: runs workflows (scheduling, branches, retries, state) over NATS."""

"""Readiness: can the gateway reach what every request needs?"""

from __future__ import annotations

import asyncio

from ..resources import GatewayResources

# Readiness probes are frequent and must answer fast; a store that takes longer than this
# to answer a ping is not ready for traffic either.
PING_TIMEOUT_S = 2.0


async def check_nats(resources: GatewayResources) -> str | None:
    """None when healthy, else what is wrong."""
    try:
        connected = resources.nats.is_connected
    except Exception as exc:  # no connection object at all
        return f"not connected ({exc!r})"
    return None if connected else "not connected"


async def check_store(resources: GatewayResources) -> str | None:
    try:
        await asyncio.wait_for(resources.db.command("ping"), PING_TIMEOUT_S)
    except TimeoutError:
        return f"no answer to ping within {PING_TIMEOUT_S:g}s"
    except Exception as exc:
        return f"ping failed: {type(exc).__name__}"
    return None


async def readiness(resources: GatewayResources) -> dict[str, str | None]:
    nats_problem, store_problem = await asyncio.gather(
        check_nats(resources), check_store(resources)
    )
    return {"nats": nats_problem, "store": store_problem}

"""What saving a workflow touches: the workflow, its versions, its shares, and the feed
that tells collaborators about the change."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.repositories import (
    ShareRepository,
    WorkflowRepository,
    WorkflowVersionRepository,
)
from pilot_shared.store import Document

from ..collab.feed import ChangeFeed


@dataclass(frozen=True)
class WorkflowStore:
    workflows: WorkflowRepository
    versions: WorkflowVersionRepository
    shares: ShareRepository
    feed: ChangeFeed

    @classmethod
    def for_db(cls, db: AsyncDatabase[Document], feed: ChangeFeed) -> WorkflowStore:
        return cls(
            workflows=WorkflowRepository(db),
            versions=WorkflowVersionRepository(db),
            shares=ShareRepository(db),
            feed=feed,
        )

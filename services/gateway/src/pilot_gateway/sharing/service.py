"""Sharing a workflow with other users, as viewer or editor. Only the owner shares; a
user may also leave a workflow shared with them. Every change is announced, so the
collaboration sockets of a user who lost access close."""

from __future__ import annotations

from pilot_shared.contracts import (
    ShareRole,
    User,
    Workflow,
    WorkflowChange,
    WorkflowShare,
    share_id,
)
from pilot_shared.repositories import UserRepository

from ..auth.schemas import Caller
from ..errors import ForbiddenError, NotFoundError, PilotError
from ..workflows.store import WorkflowStore
from .schemas import Share


class UserNotFoundError(NotFoundError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user is called {username!r}")


class ShareWithOwnerError(PilotError):
    status_code = 422
    kind = "invalid_share"


class ShareNotFoundError(NotFoundError):
    def __init__(self, workflow_id: str, username: str) -> None:
        super().__init__(f"workflow {workflow_id!r} is not shared with {username!r}")


async def _user(users: UserRepository, username: str) -> User:
    user = await users.get_by_username(username)
    if user is None:
        raise UserNotFoundError(username)
    return user


async def _announce(store: WorkflowStore, workflow: Workflow, caller: Caller) -> None:
    await store.feed.publish(
        WorkflowChange(
            type="workflow.access_changed",
            workflow_id=workflow.id,
            version=workflow.version,
            by=caller.id,
            by_username=caller.user.username,
        )
    )


async def list_shares(
    store: WorkflowStore, users: UserRepository, workflow: Workflow
) -> list[Share]:
    out = []
    for share in await store.shares.list_for_workflow(workflow.id):
        user = await users.get(share.user_id)
        if user is not None:
            out.append(
                Share(
                    user_id=user.id,
                    username=user.username,
                    role=share.role,
                    created_at=share.created_at,
                )
            )
    return out


async def share_workflow(
    store: WorkflowStore,
    users: UserRepository,
    workflow: Workflow,
    caller: Caller,
    username: str,
    role: ShareRole,
) -> Share:
    user = await _user(users, username)
    if user.id == workflow.owner_id:
        raise ShareWithOwnerError(f"{username!r} owns workflow {workflow.id!r} already")
    share = WorkflowShare(
        id=share_id(workflow.id, user.id),
        workflow_id=workflow.id,
        user_id=user.id,
        role=role,
        created_by=caller.id,
    )
    await store.shares.put(share)
    await _announce(store, workflow, caller)
    return Share(user_id=user.id, username=user.username, role=role, created_at=share.created_at)


async def unshare_workflow(
    store: WorkflowStore, users: UserRepository, workflow: Workflow, caller: Caller, username: str
) -> None:
    user = await _user(users, username)
    if caller.id not in (workflow.owner_id, user.id):
        raise ForbiddenError("only the owner may take away someone else's access")
    if not await store.shares.delete(workflow.id, user.id):
        raise ShareNotFoundError(workflow.id, username)
    await _announce(store, workflow, caller)

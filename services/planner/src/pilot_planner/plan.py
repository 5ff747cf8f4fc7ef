"""A prompt's shape as the composer reads it: actions, branches with their arms, loops
with their bodies (built by `structure.read_plan`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .actions import Action
from .predicates import Predicate


@dataclass
class Branch:
    predicate: Predicate
    pos: int
    negated: bool = False
    arms: dict[str, list[Item]] = field(default_factory=dict)  # "then", "else", or a label
    # bands of one number ("under 1k …, 1k to 10k …, above 10k …"): arm label -> its test
    tiers: dict[str, Predicate] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [k for k in self.arms if k not in ("then", "else")]


@dataclass
class Loop:
    noun: str
    pos: int
    body: list[Item] = field(default_factory=list)


Item = Action | Branch | Loop


@dataclass
class Plan:
    items: list[Item]
    sources: list[str] = field(default_factory=list)  # where data comes from: email, slack …
    schedule: bool = False

    def walk(self) -> list[Item]:
        out: list[Item] = []

        def visit(items: list[Item]) -> None:
            for item in items:
                out.append(item)
                if isinstance(item, Branch):
                    for arm in item.arms.values():
                        visit(arm)
                elif isinstance(item, Loop):
                    visit(item.body)

        visit(self.items)
        return out

    def actions(self) -> list[Action]:
        return [i for i in self.walk() if isinstance(i, Action)]

    @property
    def has_control(self) -> bool:
        return any(isinstance(i, Branch | Loop) for i in self.walk())

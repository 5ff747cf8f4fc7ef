"""`make eval`: the intent classifier's held-out accuracy, then every evaluation prompt
generated offline and scored (node-type F1, branches, loops, integrations, models).

    python -m tests.eval.run [--file PROMPTS.jsonl] [--verbose]

`--file` scores another set of the same form (a held-out set kept outside the repo).
Exits non-zero when a prompt not marked `known_failure` misses a requirement.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .generate import generate
from .scoring import PROMPTS, Score, load_cases, score


def intent_accuracy(console: Console) -> None:
    from pilot_planner.intent_training import evaluate, load_examples

    accuracy, n_test, n_train = evaluate(load_examples())
    console.print(
        f"intent classifier: held-out accuracy [bold]{accuracy:.3f}[/] "
        f"on {n_test} prompts of phrasings it was not trained on ({n_train} for training)"
    )


def run(path: Path, console: Console, *, verbose: bool) -> list[Score]:
    scores: list[Score] = []
    for case in load_cases(path):
        try:
            workflow = generate(case)
        except Exception as exc:  # a crash scores zero and is reported, not raised
            console.print(f"[red]{case.id}: generation failed: {type(exc).__name__}: {exc}")
            continue
        scores.append(score(case, workflow))
    table = Table(title=f"generation eval: {path.name}", show_lines=False)
    for col in ("id", "F1", "ok", "types", "problems"):
        table.add_column(col, overflow="fold")
    for s in scores:
        mark = "✓" if s.all_required else ("known" if s.case.known_failure else "✗")
        if verbose or not s.all_required:
            table.add_row(
                s.case.id,
                f"{s.f1:.2f}",
                mark,
                ",".join(sorted(s.types)),
                "; ".join(s.problems())
                + (f" ({s.case.known_failure})" if s.case.known_failure else ""),
            )
    console.print(table)
    return scores


def summary(scores: list[Score], total: int, console: Console) -> bool:
    n = len(scores)
    for lang in ("en", "zh", None):
        part = [s for s in scores if lang is None or s.case.lang == lang]
        if not part:
            continue
        label = lang or "all"
        console.print(
            f"{label:>3}: {len(part)} prompts  "
            f"mean node-type F1 [bold]{statistics.mean(s.f1 for s in part):.3f}[/]  "
            f"all required {sum(s.all_required for s in part) / len(part):.1%}  "
            f"valid {sum(s.valid for s in part) / len(part):.1%}"
        )
    crashed = total - n
    unexpected = [s for s in scores if not s.all_required and not s.case.known_failure]
    fixed = [s for s in scores if s.all_required and s.case.known_failure]
    if crashed:
        console.print(f"[red]{crashed} prompts crashed the generator")
    if fixed:
        console.print("now passing (remove known_failure): " + ", ".join(s.case.id for s in fixed))
    if unexpected:
        console.print("[red]unexpected failures: " + ", ".join(s.case.id for s in unexpected))
    return not unexpected and not crashed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=PROMPTS)
    parser.add_argument("--verbose", "-v", action="store_true", help="list passing prompts too")
    parser.add_argument("--no-intent", action="store_true", help="skip the classifier accuracy")
    args = parser.parse_args(argv)
    console = Console(width=max(110, Console().width))
    if not args.no_intent:
        intent_accuracy(console)
    total = len(load_cases(args.file))
    scores = run(args.file, console, verbose=args.verbose)
    return 0 if summary(scores, total, console) else 1


if __name__ == "__main__":
    raise SystemExit(main())

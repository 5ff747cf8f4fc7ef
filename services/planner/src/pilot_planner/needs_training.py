"""Train the needs model: `python -m pilot_planner.needs_training`.

Reads `services/planner/data/needs_prompts.jsonl` (prompts with the node types a person
drew for them: the evaluation set and the fresh batches of issue #3 that were fitted on,
each tagged with its batch), fits one TF-IDF + logistic regression per node type in
`TYPES` (the features of the intent classifier, fixed seeds), and writes
`pilot_planner/models/needs.json` as plain numbers. `--evaluate` first holds out each batch
in turn and prints how the model does on the batch it was not fitted on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .classifier import features
from .needs import MODEL_FILE, TYPES

DATA = Path(__file__).resolve().parents[2] / "data" / "needs_prompts.jsonl"
MODEL = Path(__file__).resolve().parent / "models" / MODEL_FILE
DECIMALS = 4
C = 5.0


def load_examples(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _fit(texts: list[str], labels: dict[str, list[bool]]) -> tuple[Any, dict[str, Any]]:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    vectorizer = TfidfVectorizer(analyzer=features, lowercase=False)
    x = vectorizer.fit_transform(texts)
    models = {
        t: LogisticRegression(C=C, max_iter=3000, random_state=0).fit(x, y)
        for t, y in labels.items()
    }
    return vectorizer, models


def _labels(examples: list[dict[str, Any]]) -> dict[str, list[bool]]:
    return {t: [t in e["types"] for e in examples] for t in TYPES}


def evaluate(examples: list[dict[str, Any]], threshold: float) -> dict[str, tuple[int, int, int]]:
    """Per type, over every fresh batch held out in turn: (predicted needed at
    `threshold`, of those right, prompts that need it)."""
    out = {t: (0, 0, 0) for t in TYPES}
    groups = sorted({e["group"] for e in examples if e["group"] != "repo"})
    for group in groups:
        train = [e for e in examples if e["group"] != group]
        test = [e for e in examples if e["group"] == group]
        vectorizer, models = _fit([e["text"] for e in train], _labels(train))
        x = vectorizer.transform([e["text"] for e in test])
        for t, model in models.items():
            probs = model.predict_proba(x)[:, 1]
            said = [p >= threshold for p in probs]
            needed = [t in e["types"] for e in test]
            n, right, total = out[t]
            out[t] = (
                n + sum(said),
                right + sum(s and y for s, y in zip(said, needed, strict=True)),
                total + sum(needed),
            )
    return out


def export(vectorizer: Any, models: dict[str, Any]) -> dict[str, Any]:
    vocabulary = {term: int(i) for term, i in sorted(vectorizer.vocabulary_.items())}
    return {
        "format": "tfidf-logreg-binary/1",
        "types": list(models),
        "vocabulary": vocabulary,
        "idf": [round(float(v), DECIMALS) for v in vectorizer.idf_],
        "coef": {t: [round(float(v), DECIMALS) for v in m.coef_[0]] for t, m in models.items()},
        "intercept": {t: round(float(m.intercept_[0]), DECIMALS) for t, m in models.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=MODEL)
    parser.add_argument("--evaluate", action="store_true", help="hold out each batch first")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args(argv)
    examples = load_examples(args.data)
    if args.evaluate:
        for t, (n, right, total) in evaluate(examples, args.threshold).items():
            print(
                f"{t}: held-out batches, p >= {args.threshold}: {n} said needed, {right} right "
                f"(precision {right / max(n, 1):.2f}, recall {right / max(total, 1):.2f})"
            )
    vectorizer, models = _fit([e["text"] for e in examples], _labels(examples))
    data = export(vectorizer, models)
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, {len(data['idf'])} features)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

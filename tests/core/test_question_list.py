"""Question-list files (`forge --questions-file`): the shapes accepted, and faults named by file and line."""

from __future__ import annotations

import json

import pytest

from turnloom.core.errors import ToolsetError
from turnloom.core.tools.question_list import load_questions, questions_path, save_questions


def test_the_saved_file_an_array_and_lines_all_load(tmp_path):
    saved = questions_path(tmp_path / "shop.tools.json")
    assert saved.name == "shop.tools.questions.json"
    save_questions(saved, "shop", ["Where is my order?", "Cancel order 7."])
    array = tmp_path / "a.json"
    array.write_text(json.dumps(["Where is my order?", "Cancel order 7."]))
    lines = tmp_path / "b.jsonl"
    lines.write_text('Where is my order?\n\n{"question": "Cancel order 7."}\n')
    for path in (saved, array, lines):
        assert load_questions(path) == ["Where is my order?", "Cancel order 7."]


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('["ok", 3]', "questions[1]"),
        ('{"format": "turnloom-toolset", "questions": []}', "field 'format'"),
        ('fine\n{"q": "x"}\n', "line 2: field 'question'"),
        ('fine\n{"question": \n', "line 2 is not JSON"),
        ("\n\n", "no question"),
        ('["  "]', "questions[0]"),
    ],
)
def test_a_broken_question_list_names_the_file_and_where(tmp_path, content, named):
    path = tmp_path / "q.jsonl"
    path.write_text(content)
    with pytest.raises(ToolsetError) as caught:
        load_questions(path)
    assert str(path) in str(caught.value) and named in str(caught.value)

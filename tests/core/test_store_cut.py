"""A JSON snapshot cut off inside a literal (`nul`, `fals`) is reported as cut off, not as bad JSON."""

from __future__ import annotations

import pytest

from turnloom.core.errors import SessionFileError
from turnloom.core.lifecycle.dialogue import create_session
from turnloom.core.storage import snapshot as store


@pytest.mark.parametrize("literal", ["null", "false", "true"])
def test_a_snapshot_cut_inside_a_literal_says_the_file_ends_early(tmp_path, literal):
    text = store.dumps(create_session("retail"), "json")
    at = text.index(f": {literal}") + 4  # two letters into the literal
    path = tmp_path / "cut.session.json"
    path.write_text(text[:at])
    with pytest.raises(SessionFileError) as caught:
        store.load_session(path)
    assert "file ends early" in str(caught.value)

"""Creating nbgrader's gradebook: stamped with the schema's head, read from the migration
scripts instead of a separate ``alembic heads`` process (5-20 s per new gradebook)."""
import sqlite3
from pathlib import Path

from coursekit.grading import gradebook


def test_alembic_head_is_the_head_alembic_itself_reports():
    import nbgrader
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic"))
    assert gradebook.alembic_head() == script.get_current_head() is not None


def test_a_new_gradebook_is_stamped_with_it_without_starting_alembic(tmp_path, monkeypatch):
    import nbgrader.api as api

    def no_process(*args, **kwargs):
        raise AssertionError(f"nbgrader started a process: {args}")
    monkeypatch.setattr(api.sp, "check_output", no_process)
    gradebook.ensure_tools_on_path()
    with api.Gradebook(gradebook.db_url(tmp_path)) as gb:
        gb.update_or_create_assignment("a1")
    stamped = sqlite3.connect(tmp_path / "gradebook.db").execute("SELECT version_num FROM alembic_version")
    assert stamped.fetchall() == [(gradebook.alembic_head(),)]

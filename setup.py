"""Build hook: the wheel carries the lecture notebooks and the student release (with its
visible-case packs).

Everything else is in pyproject.toml. ``coursekit lessons DIR`` copies these files into a
student's folder when coursekit is installed from the wheel (``pip install coursekit``, Colab);
an editable install (``make``) reads them from the checkout instead.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COURSE_FILES = (("notebooks", "[0-9][0-9]_*.ipynb"), ("assignments", "*/*.ipynb"),
                ("assignments", "*/*.visible"))  # the visible-case packs `coursekit check` scores with


class build_py_with_course(build_py):
    """``build_py`` that also copies notebooks/ and assignments/ into coursekit/course_files/."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "coursekit" / "course_files"
        for folder, pattern in COURSE_FILES:
            for src in sorted((ROOT / folder).glob(pattern)):
                if ".ipynb_checkpoints" in src.parts:
                    continue
                target = dest / folder / src.relative_to(ROOT / folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)


setup(cmdclass={"build_py": build_py_with_course})

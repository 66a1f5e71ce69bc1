"""Build hook: the wheel carries ``notebooks/`` and ``data/sample/`` as package data.

The repository keeps both at the top level (where people look for them); a wheel installed
without the checkout needs them too. So the build copies them into the package as
``bltanalytics/_bundled/notebooks`` and ``bltanalytics/_bundled/sample``, where
:mod:`bltanalytics.resources` finds them: one copy in git, two places in use. Editable installs
read the checkout's folders and copy nothing. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: folder in the checkout -> (folder under bltanalytics/_bundled, files to take)
BUNDLED = {
    "notebooks": ("notebooks", "*.ipynb"),
    "data/sample": ("sample", "*"),
}


class BuildWithBundle(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        bundle = Path(self.build_lib) / "bltanalytics" / "_bundled"
        for source, (target, pattern) in BUNDLED.items():
            found = [
                p
                for p in sorted((HERE / source).rglob(pattern))
                if p.is_file() and ".ipynb_checkpoints" not in p.parts
            ]
            if not found:
                raise FileNotFoundError(f"{source}/ has no {pattern} files to ship in the wheel")
            for path in found:
                dest = bundle / target / path.relative_to(HERE / source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


setup(cmdclass={"build_py": BuildWithBundle})

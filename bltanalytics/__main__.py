"""``python -m bltanalytics``: the same as the ``bltanalytics`` command."""

from bltanalytics.cli import app

if __name__ == "__main__":
    app(prog_name="bltanalytics")

"""Canaries declared in files: one TOML file per canary, in the folders of ``[canaries] paths``.

The format is documented in README ("Canary files") and validated by ``spec.py``; ``load.py`` reads
the files, ``compile.py`` checks their SQL (sqlglot, only when a run or a lint needs it) and
``canary.py`` makes each file a :class:`~pipeline_canary.canaries.base.Canary`.
"""

from __future__ import annotations

from pipeline_canary.canary_files.canary import FileCanary, FileSettings
from pipeline_canary.canary_files.load import canary_files, load_file, load_folders

__all__ = ["FileCanary", "FileSettings", "canary_files", "load_file", "load_folders"]

"""The canaries of one configuration: the built-in Python canaries and the user's canary files.

The configuration builds its catalogue once, while it is validated (``CanaryConfig.catalogue``), and
every part that needs to know the canaries (the runner, the CLI, the service, alerts, reports,
doctor) asks the configuration for it. The built-ins come from ``pipeline_canary/canaries/``: its
modules (what SQL cannot say) and its canary files (``feature_contamination.toml``); the user's file
canaries from the folders named by ``[canaries] paths`` and the packs (pipeline_canary.canary_files).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline_canary.errors import ConfigError

if TYPE_CHECKING:
    from pipeline_canary.canaries.base import Canary
    from pipeline_canary.canary_files.canary import FileCanary


class Catalogue:
    """Canaries by name, listed by ``(order, name)``."""

    def __init__(self, canaries: Iterable[Canary]) -> None:
        self._canaries: dict[str, Canary] = {}
        for canary in canaries:
            other = self._canaries.get(canary.name)
            if other is not None:
                raise ConfigError(
                    f"two canaries are named {canary.name!r}: {other.source} and {canary.source}; rename one"
                )
            self._canaries[canary.name] = canary
        self._sorted = sorted(self._canaries.values(), key=lambda c: (c.order, c.name))

    @classmethod
    def load(cls, paths: Sequence[Path] = ()) -> Catalogue:
        """The built-in canaries and those of the canary files in ``paths`` (folders; validated)."""
        from pipeline_canary.canaries import registry

        files: list[Canary] = []
        if paths:
            from pipeline_canary.canary_files import load_folders

            files = list(load_folders(paths))
        return cls([*registry.all(), *files])

    def get(self, name: str) -> Canary:
        try:
            return self._canaries[name]
        except KeyError:
            from pipeline_canary.canaries.base import unknown_checkpoint

            raise unknown_checkpoint(name, self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self._canaries

    def select(self, names: Iterable[str] | None) -> list[Canary]:
        """The canaries named, each once in the order first given (a repeated name runs once); none: all."""
        chosen = [self.get(n) for n in dict.fromkeys(names or ())]
        return chosen or self.all()

    def names(self) -> list[str]:
        return [c.name for c in self._sorted]

    def all(self) -> list[Canary]:
        return list(self._sorted)

    def files(self) -> list[FileCanary]:
        """The canaries defined in canary files."""
        from pipeline_canary.canary_files.canary import FileCanary

        return [c for c in self._sorted if isinstance(c, FileCanary)]

    def compile(self, names: Iterable[str] | None = None) -> None:
        """Check the SQL of the file canaries among ``names`` (default: all) with sqlglot, once each.

        ConfigError lists every problem of every file, each naming the file, the line and the key.
        """
        chosen = {c.name for c in self.select(names)}
        problems = []
        for canary in self.files():
            if canary.name in chosen:
                try:
                    canary.compiled()
                except ConfigError as exc:
                    problems.append(str(exc))
        if problems:
            raise ConfigError("invalid canary file(s):\n" + "\n".join(problems))

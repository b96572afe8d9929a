"""pipeline-canary: data-quality canaries for the NBA player-props prediction pipeline.

Heavy imports (Great Expectations, pandas, cloud clients) are deliberately not made here so that
commands such as ``canary --help`` and ``canary list`` stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

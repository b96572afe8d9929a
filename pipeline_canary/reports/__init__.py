"""Reports people would rather look at than read: GX Data Docs and the canary dashboard.

``build_site(config)`` renders the dashboard next to GX's Data Docs; ``serve`` and ``publish`` hand
the built site to a browser or a GCS bucket.
"""

from __future__ import annotations

from pipeline_canary.reports.dashboard import Site, build_site, docs_root

__all__ = ["Site", "build_site", "docs_root"]

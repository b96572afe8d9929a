"""Serving a built site read-only over HTTP, shared by ``canary serve`` (``/docs/``) and ``canary docs serve``.

:mod:`~pipeline_canary.web.paths` decides which file a URL path names (or why none: 404, 414);
:mod:`~pipeline_canary.web.server` is the server and handler base that holds up under a burst.
"""

from __future__ import annotations

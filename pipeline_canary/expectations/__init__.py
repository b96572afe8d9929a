"""Canary checks turned into GX expectations and suites."""

from __future__ import annotations

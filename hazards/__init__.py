"""Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches and maps."""

from __future__ import annotations

from hazards.versions import __version__, show_versions

__all__ = ["__version__", "show_versions"]

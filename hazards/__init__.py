"""Road-hazard inventory: roads and chainage in PostGIS, surveys, tiers, batches and maps."""

from __future__ import annotations

__version__ = "0.1.0"

from hazards.versions import show_versions

__all__ = ["__version__", "show_versions"]

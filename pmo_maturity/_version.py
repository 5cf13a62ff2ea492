"""The kit's version, as installed (recorded in every output)."""

from __future__ import annotations

from importlib import metadata


def kit_version() -> str:
    try:
        return metadata.version("pmo-maturity")
    except metadata.PackageNotFoundError:  # running from a checkout without installing
        return "0+unknown"

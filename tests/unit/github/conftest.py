"""Fixtures for the GitHub tests live in fake_github.py (a uniquely named, importable module)."""

from __future__ import annotations

from fake_github import api_prefix, fake_sleep, github, openapi

__all__ = ["api_prefix", "fake_sleep", "github", "openapi"]

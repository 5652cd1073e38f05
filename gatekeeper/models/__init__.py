"""The v1 formats as pydantic models: run bundle, policy and verdict (docs/formats.md)."""

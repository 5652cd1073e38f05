"""The git checkout the gate runs in (files at a ref, top folder)."""

"""Check families: one module per family, each ``run(evidence)`` returning its checks.

``families.py`` calls them in a fixed order (so the verdict is the same bytes for the same
inputs); ``ids.py`` builds every check id; ``waivers.py`` applies the policy's waivers.
"""

"""Declarations: what the project knows before it reads any figure.

The YAML files an analyst can read and edit (tables, indicators, themes, claims), their
pydantic models and the checks that refuse unknown keys, wrong types and dangling references.
"""

from __future__ import annotations

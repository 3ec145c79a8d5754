"""Contracts shared by every package: raw input tables, typed ids, output tables."""

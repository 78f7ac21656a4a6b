"""Reusable Qt widgets with no knowledge of where data comes from (single-line items, trends, banner)."""

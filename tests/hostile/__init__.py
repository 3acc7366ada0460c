"""Hostile inputs for the envelope parser and validator (see cases.py)."""

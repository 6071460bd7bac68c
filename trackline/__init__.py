"""Trackline: serial-number and lot tracking for warehouses."""

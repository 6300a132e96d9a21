"""Contracts shared by every service: names, message schemas, settings, logging and metrics helpers."""

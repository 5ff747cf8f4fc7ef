"""Monitoring: stats, usage and suggestions drawn from execution history."""

"""Plots and attributions (matplotlib): what the lessons draw."""

"""Analyses on simulated and historical tables: targets, staffing, OLA/UC, quick estimates."""

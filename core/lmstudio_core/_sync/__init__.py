"""Blocking client: transport (reader thread) and facade."""

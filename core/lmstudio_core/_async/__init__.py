"""Asyncio client: transport (reader task) and facade."""

"""pytest fixtures that run the LM Studio emulator."""

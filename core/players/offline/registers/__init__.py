"""The registers a persona may write in, one module each (`voice_registers` puts them together)."""

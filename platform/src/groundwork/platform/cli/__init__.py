"""The `groundwork` command."""

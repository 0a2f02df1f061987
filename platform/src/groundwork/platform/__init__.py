"""Platform: settings, metadata store, blob store, task queue, REST API and CLI."""

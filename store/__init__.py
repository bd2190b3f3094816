"""The conversation store: projects the application topics into Redis and answers reads from it."""

"""The gateway: realtime events, outbound webhooks, client.config and health aggregation."""

"""`make bench`: figures of the running platform, printed, never asserted (machines are noisy)."""

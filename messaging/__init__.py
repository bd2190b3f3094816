"""The messaging service: send, resend and suggest replies, with one connector per source."""

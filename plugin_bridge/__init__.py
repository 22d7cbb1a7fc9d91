"""The CLI and HTTP client: talks to the service over its REST API only."""

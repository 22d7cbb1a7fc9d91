"""HTTP: the REST API, server-sent events and the pages. Reads the store, never TensorFlow."""

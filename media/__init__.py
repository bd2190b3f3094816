"""Media: files uploaded through `media.upload`, kept in an S3-compatible object store under
content-addressed names."""

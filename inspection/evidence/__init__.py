"""证据 — photo and document evidence: a content-addressed store (disk or S3), uploads, checks, links to records."""

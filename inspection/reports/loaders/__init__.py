"""One data loader per report, each reading through its domain's service or tables."""

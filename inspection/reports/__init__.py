"""PDF reports (WeasyPrint): data loaders per report, the renderer, the document register."""

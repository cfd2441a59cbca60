"""Material sampling (原材料进场、见证取样、复验): batches, plans, samples, lab results, retests, dispositions."""

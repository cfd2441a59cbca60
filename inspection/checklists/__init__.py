"""Checklists: versioned templates, inspections and their answers, JGJ 59 / GB 50300 scoring,
supervision plans (hold, witness and side-station points) per work item."""

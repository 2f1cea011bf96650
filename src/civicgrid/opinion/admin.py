"""舆情 has no admin-editable lists of its own (platforms and levels are fixed choices, see docs/opinion.md)."""

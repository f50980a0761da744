"""The demo nation: a deterministic synthetic population, its name tables, and the bulk loader that
writes it into an empty civil registry through the registry's own rules (``gov21 seed``).

It may use the registry; nothing in the registry uses it, so a production installation can leave
it out."""

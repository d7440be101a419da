"""Pictures of a store or a benchmark run (matplotlib, imported only when drawing)."""

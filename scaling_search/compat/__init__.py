"""Each upstream private API this package relies on, behind one small module per library, each with a test."""

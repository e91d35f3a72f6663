"""Reports: the alpha/beta/gamma table, the family table and figures, from a study or the released family."""

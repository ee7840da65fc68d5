"""Developer scripts (screenshots) and the browser helpers they share with the browser tests and
the workbench benchmark."""

"""The citable data package: its Frictionless descriptor, the CSV zip, and the data dictionary page."""

"""Writing the dataset: the checks a record passes, the record to its rows and back, and the
create, change and delete operations."""

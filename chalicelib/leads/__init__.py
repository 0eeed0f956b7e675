"""The lead: its model (model.py), what the service needs of a store (store.py) and the one
adapter for the leads table (dynamodb.py). See docs/architecture.md."""

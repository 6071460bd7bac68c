"""GraphQL-facing use cases: the request context, dataloaders, ID decoding, and turning
domain refusals into user errors. Returns plain rows; schema/ wraps them in types."""

"""What one request may ask of the GraphQL endpoint; defaults and settings in
docs/security.md."""

from dataclasses import dataclass, field

from schema.limits import DocumentLimits


@dataclass(frozen=True)
class HttpLimits:
    document: DocumentLimits = field(default_factory=DocumentLimits)
    max_body_bytes: int = 1024 * 1024
    # Multipart uploads carry CSV imports: a million serial rows is about 31 MB.
    max_upload_bytes: int = 100 * 1024 * 1024

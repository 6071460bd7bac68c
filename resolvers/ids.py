"""Global IDs in, database ids out."""

from strawberry import relay

from services.errors import ErrorCode, Refused


def decode(global_id: relay.GlobalID, type_name: str, field: str) -> int:
    """The row id inside a global ID of `type_name`, or a NOT_FOUND refusal naming `field`."""
    if global_id.type_name != type_name or not global_id.node_id.isdigit():
        raise Refused.one(ErrorCode.NOT_FOUND, f"{global_id} is not the id of a {type_name}", field)
    return int(global_id.node_id)


def decode_optional(global_id: relay.GlobalID | None, type_name: str, field: str) -> int | None:
    """`decode` for an optional argument: None stays None."""
    return None if global_id is None else decode(global_id, type_name, field)

"""The warehouse's use cases as plain async functions taking a session.

Nothing here knows about GraphQL or HTTP: a refusal is a `Refused` carrying coded problems.
"""

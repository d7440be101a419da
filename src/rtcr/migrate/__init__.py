"""Live migration: a chain of checkpoints streamed into another rtcr's store, then restored.

`wire` is the authenticated frame protocol, `messages` the checkpoint
transfer over it, `source` drives a migration from a running session,
`receiver` takes migrations in and runs them.
"""

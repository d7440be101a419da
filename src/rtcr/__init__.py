"""rtcr: real-time checkpoint/restore for Genode-style components."""

__version__ = "0.1.0"

"""Genode test packages on rtcr: runtime files (HID and XML) and their judge.

`rtcr test` (`rtcr.cli.test`) runs a component as Genode's depot
autopilot runs a test package: quotas and config from the package's
``runtime`` file (`runtime_file`), the LOG judged against its succeed/fail
criteria (`autopilot`), in virtual time.
"""

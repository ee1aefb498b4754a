"""The flow check: does the platform, as planned, let every intended flow through and stop every
forbidden one? See docs/flows.md. Entry points: build_flows(plan) and cli.run(args)."""
from .catalogue import Flow, build_flows  # noqa: F401

"""DR failover and failback procedure as code (run by an operator, or from a runner in the DR region): see procedure.py."""
from .procedure import main  # noqa: F401

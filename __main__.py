"""ai-platform: one ComponentResource per tier, wired by their outputs. No resource logic here."""
import pulumi

from components.config import load_settings
from components.context import Platform
from components.network import NetworkTier, NetworkTierArgs
from components.security import SecurityTier, SecurityTierArgs

settings = load_settings()
platform = Platform.from_settings(settings)

security = SecurityTier("security", SecurityTierArgs(platform=platform))
network = NetworkTier("network", NetworkTierArgs(platform=platform, logs_key_arn=security.logs_key_arn))
# --- data tier (issue 3) ---
# --- ml tier (issue 6) ---
# --- application tier (issue 4) ---
# --- edge tier (issue 5) ---
# --- events tier (issue 5) ---
# --- observability tier (issue 7) ---
# --- dr tier (issue 7) ---

pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("dataKeyArn", security.data_key_arn)
pulumi.export("secretArns", security.secret_arns)

"""Network tier settings: the VPC layout, NAT strategy, endpoints and flow logs."""
from __future__ import annotations

import dataclasses
import ipaddress

from .platform import LOG_RETENTION_DAYS
from .schema import Cidr, ConfigError, Enum, EnvDefault, Int, ListOf, setting

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts", "kms", "ssm", "monitoring",
                       "sagemaker.api", "sagemaker.runtime", "bedrock-runtime", "elasticloadbalancing")


@dataclasses.dataclass(frozen=True)
class NetworkSettings:
    cidr: str = setting(Cidr(16, 24), "10.0.0.0/16", "VPC IPv4 CIDR block.")
    az_count: int = setting(Int(1, 6), EnvDefault(2, 3), "Availability zones to spread subnets over.")
    nat_strategy: str = setting(Enum("none", "single", "one-per-az"), EnvDefault("single", "one-per-az"),
                                "NAT gateways: none, one shared (cheap) or one per AZ (highly available).")
    public_subnet_mask: int = setting(Int(16, 28), 24, "Prefix length of each public subnet.")
    private_subnet_mask: int = setting(Int(16, 28), 20, "Prefix length of each private (NAT-routed) subnet.")
    isolated_subnet_mask: int = setting(Int(16, 28), 24, "Prefix length of each isolated (no internet) subnet.")
    interface_endpoints: tuple = setting(ListOf(Enum(*INTERFACE_ENDPOINTS), max_items=len(INTERFACE_ENDPOINTS)),
                                         EnvDefault([], ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts"]),
                                         "Interface VPC endpoints (billed per AZ-hour).")
    flow_log_traffic_type: str = setting(Enum("ALL", "ACCEPT", "REJECT"), "ALL", "Traffic captured by VPC flow logs.")
    flow_log_retention_days: int = setting(Enum(*LOG_RETENTION_DAYS), EnvDefault(30, 365),
                                           "Retention of the flow-log group (days).")

    app_port_from: int = setting(Int(1024, 65535), 8000, "First container port the application tier listens on.")
    app_port_to: int = setting(Int(1024, 65535), 8009, "Last container port the application tier listens on.")
    data_ports: tuple = setting(ListOf(Int(1, 65535), min_items=1, max_items=10), [5432, 6379, 27017],
                                "Ports the data security group accepts from the application group.")

    def validate(self, path: str) -> None:
        if self.app_port_to < self.app_port_from:
            raise ConfigError(f"{path}.appPortTo", self.app_port_to, f"a port >= appPortFrom ({self.app_port_from})")
        vpc = ipaddress.IPv4Network(self.cidr)
        for key in ("public_subnet_mask", "private_subnet_mask", "isolated_subnet_mask"):
            mask = getattr(self, key)
            if mask <= vpc.prefixlen:
                raise ConfigError(f"{path}.{key.split('_')[0]}SubnetMask", mask,
                                  f"a prefix longer than the VPC's /{vpc.prefixlen}")
        needed = self.az_count * sum(2 ** (32 - m) for m in (self.public_subnet_mask, self.private_subnet_mask,
                                                              self.isolated_subnet_mask))
        if needed > vpc.num_addresses:
            raise ConfigError(f"{path}.cidr", self.cidr,
                              f"a block of at least {needed} addresses for {self.az_count} AZs of public, private "
                              f"and isolated subnets (or smaller subnet masks)")
        if self.nat_strategy == "one-per-az" and self.az_count < 2:
            raise ConfigError(f"{path}.natStrategy", self.nat_strategy, "'single' or 'none' when azCount is 1")

"""Entry point the Pulumi CLI runs. It only builds the PolicyPack, which starts a server and blocks:
nothing may import this module. Rules live in policies/rules/, the pack's arguments in policies/pack.py."""
from pack import (
    pack_args,  # the CLI runs this file with policies/ as the working directory
)
from pulumi_policy import PolicyPack

PolicyPack(**pack_args())

"""Unpark a service once its first release is deployed (a CodePipeline Lambda action after the ECS deploy)."""

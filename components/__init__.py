"""The platform's tiers (ComponentResources) and what they share: config, naming, tags, context."""

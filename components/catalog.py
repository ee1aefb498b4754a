"""The default service catalogue: the nine Gen-AI services of the design, one container port each.

The application tier's config (`ai-platform:application` -> services) defaults to this, and the ML
tier creates one ECR repository per service in the catalogue, so both read the same names.
"""
DEFAULT_SERVICES: dict[str, int] = {
    "format-conversion": 8000,
    "classification": 8001,
    "workflow": 8002,
    "search": 8003,
    "quality": 8004,
    "personalization": 8005,
    "document-extraction": 8006,
    "conversational": 8007,
    "code": 8008,
}

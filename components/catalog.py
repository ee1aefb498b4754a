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

# What each service uses, following the designs (ai-platform:application.services.<name>.uses adds to it):
# the platform derives each service's own task role, injected secrets and environment from these contracts.
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
EMBEDDINGS = "amazon.titan-embed-text-v2:0"
DEFAULT_CONTRACTS: dict[str, dict] = {
    # Converts uploaded documents to a canonical format next to the original.
    "format-conversion": {"buckets": {"documents": "readwrite"}},
    # Sorts documents on request: reads them, records results.
    "classification": {"database": "readwrite", "buckets": {"documents": "read"}, "models": [HAIKU]},
    # Orchestrates multi-step jobs: requests inference, consumes notifications, keeps state in the database.
    "workflow": {"database": "readwrite", "cache": True, "queues": ["notifications"],
                 "publishes": ["InferenceRequested"]},
    # Semantic search: read-only database (the replica where there is one): the classified documents
    # (classification's schema), embeddings, cached results.
    "search": {"database": "readonly", "schemas": ["classification"], "cache": True, "buckets": {"documents": "read"},
               "models": [EMBEDDINGS]},
    # Evaluates model outputs (the conversations in conversational's schema, read-only) against the synthetic
    # datasets and the published model artifacts.
    "quality": {"database": "readonly", "schemas": ["conversational"], "tables": ["synthetic-data"],
                "buckets": {"ml-artifacts": "read"}, "models": [HAIKU]},
    "personalization": {"database": "readwrite", "cache": True},
    # Takes documents in (presigned multipart uploads straight to S3, completed by it: docs/traffic.md), announces
    # them (DocumentUploaded), consumes the document-processing queue that event feeds, reads the documents and
    # writes their extracted text to the data lake.
    "document-extraction": {"buckets": {"documents": "read", "data-lake": "write"}, "uploads": ["documents"],
                            "publishes": ["DocumentUploaded"],
                            "queues": ["document-processing"], "models": [HAIKU]},
    # The inference consumer: reads its queue, keeps sessions in the cache, conversations in the database.
    "conversational": {"database": "readwrite", "cache": True, "queues": ["inference-requests"], "models": [HAIKU]},
    "code": {"cache": True, "models": [HAIKU]},
}

# How the API serves each service (ai-platform:application.services.<name>.route overrides keys one by one):
# answers that take longer than API Gateway's buffered 29 s stream (REST `responseTransferMode: STREAM`, up to
# 15 minutes); routes that take free text (prompts, code) are `prompts` routes, where the WAF's body rules count
# instead of block (docs/traffic.md); routes that carry documents and images declare their binary media types.
BINARY_DOCUMENTS = ["application/pdf", "application/octet-stream", "image/*"]
DEFAULT_ROUTES: dict[str, dict] = {
    "format-conversion": {"binaryMediaTypes": BINARY_DOCUMENTS},
    "document-extraction": {"binaryMediaTypes": BINARY_DOCUMENTS},
    "classification": {"binaryMediaTypes": BINARY_DOCUMENTS},
    "conversational": {"response": "STREAM", "timeoutSeconds": 900, "prompts": True},
    "code": {"response": "STREAM", "timeoutSeconds": 900, "prompts": True},
}

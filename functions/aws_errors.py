"""What the operator CLIs (`functions.images`, `functions.dr_failover`) share about AWS errors: which error codes
mean the caller's credentials were rejected (bad input, exit 2, not a failed step), the code of a ClientError, and
the one line printed when no credentials are found."""
from __future__ import annotations

from botocore.exceptions import ClientError

CREDENTIAL_ERRORS = frozenset({"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                               "ExpiredToken", "InvalidClientTokenId", "AuthFailure"})
NO_CREDENTIALS = "error: no AWS credentials (set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID)"


def error_code(exc: Exception) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""

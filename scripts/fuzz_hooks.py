"""Schemathesis hooks for scripts/fuzz."""

import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    # A reused Idempotency-Key with another body is 422 by design (api tests cover it); the
    # fuzzer would reuse its few generated keys across unrelated requests.
    headers = kwargs.get("headers")
    if headers is not None and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())

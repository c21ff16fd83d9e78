"""Schemathesis hooks for scripts/fuzz."""

import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    # A reused Idempotency-Key with another body is 422 by design (api tests cover it); the
    # fuzzer would reuse its few generated keys across unrelated requests, so each call gets
    # a fresh one.
    # A negative case keeps its headers as drawn: editing them would turn it positive again
    # (Schemathesis revalidates a case a hook changed) and send a header it meant to leave out.
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            headers[name] = str(uuid.uuid4())

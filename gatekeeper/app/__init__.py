"""The gate as a GitHub App: a webhook service (``gatekeeper serve``) whose check a pull request
cannot forge. The evidence comes from the workflow run's artifact, the policy and the registry
entry from the PR's base commit, and the check is posted by the App (docs/app.md).

    wsgi.py       the WSGI app: /webhook, /healthz, /readyz; signature → queue → 202
    signature.py  X-Hub-Signature-256, compared in constant time
    events.py     a webhook payload → the work it asks for (a ``Job``)
    work.py       the bounded queue, its worker threads, one job per PR at a time
    evaluate.py   one job: artifact → base-commit files → ``run_gate`` → publish
    auth.py       the App JWT and the cached installation tokens
    artifact.py   the run's bundle artifact, found by name, downloaded through the 302
    unzip.py      a zip unpacked within limits (size, entries, ratio; no escape, no links)
    basefiles.py  the policy and file-registry entries at the base commit (contents API)
    publish.py    the check run and the sticky comment, found and updated in place
    config.py     settings from an environ mapping (``GATEKEEPER_APP_ID``, ...)
"""

"""What the current log lines are about: the request and the job being handled.

Set by the request middleware and by the actors; read by the log formatter
(``isomix.logs``), so every line carries them without being passed around.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
job_id_var: ContextVar[str] = ContextVar("job_id", default="")

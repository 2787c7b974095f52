"""`cdp-loader sandbox`: serve a local Batch API for rehearsals and tests."""

from __future__ import annotations

import click
from click.core import ParameterSource

from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError
from cdp_loader.sandbox import (
    DEFAULT_API_TOKEN,
    DEFAULT_CLIENT_KEY,
    FaultPlan,
    FaultSpecError,
    Sandbox,
    is_loopback,
)
from cdp_loader.sandbox import faults as fault_grammar

_FAULT_HELP = (fault_grammar.__doc__ or "").split("\n", 2)[2]


def _fault_plan(ctx: click.Context, param: click.Parameter, specs: tuple[str, ...]) -> FaultPlan:
    try:
        return FaultPlan.parse(specs)
    except FaultSpecError as exc:
        raise LoaderError(f"--faults: {exc}") from None


@click.command("sandbox", epilog="Fault plans (--faults):\n\n" + _FAULT_HELP + "\n\n"
               + EXIT_STATUS_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to listen on (127.0.0.0/8, ::1 or localhost).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one.")
@click.option("--faults", "fault_plan", multiple=True, callback=_fault_plan, metavar="SPEC",
              help="Failures to stage, e.g. '429x2@upload=0.5,drop'; repeatable. See below.")
@click.option("--processing-seconds", default=0.0, show_default=True,
              type=click.FloatRange(min=0), help="How long processing each batch takes.")
@click.option("--url-expiry-seconds", default=3600.0, show_default=True,
              type=click.FloatRange(min=0), help="How long upload and log URLs stay valid.")
@click.option("--client-key", envvar="CDP_CLIENT_KEY", default=DEFAULT_CLIENT_KEY,
              show_default=True,
              help="Client key to accept (Basic auth user) [env CDP_CLIENT_KEY].")
@click.option("--api-token", envvar="CDP_API_TOKEN", default=DEFAULT_API_TOKEN,
              show_default=True, help="API token to accept (Basic auth password) "
              "[env CDP_API_TOKEN].")
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str,
    port: int,
    fault_plan: FaultPlan,
    processing_seconds: float,
    url_expiry_seconds: float,
    client_key: str,
    api_token: str,
) -> None:
    """Serve a local Sitecore CDP Batch API sandbox on loopback until Ctrl-C.

    It speaks the Batch API protocol for real (allocate, pre-signed upload, status,
    inspect, error logs) and applies order records to an in-memory order store with CDP's
    24-hour matching. Endpoints of its own, not part of CDP, show what it holds (Basic
    auth): GET /sandbox/received (every record, with its outcome code), /sandbox/orders
    (the current orders), /sandbox/history (every change) and /sandbox/batches.

    \b
    Example:
        cdp-loader sandbox --port 8765 --faults '429x2@upload=0.5,reject=ORD-7'
        # in another shell:
        export CDP_BASE_URL=http://127.0.0.1:8765
        cdp-loader ship batches/
    """
    if not is_loopback(host):
        raise LoaderError(f"--host {host} is not a loopback address; the sandbox serves "
                          "127.0.0.1, ::1 or localhost only")
    server = Sandbox(
        faults=fault_plan, processing_seconds=processing_seconds, client_key=client_key,
        api_token=api_token, host=host, port=port, url_expiry_seconds=url_expiry_seconds,
        log_stream=click.get_text_stream("stderr"),
    )
    try:
        server.start()
    except OSError as exc:
        raise LoaderError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                          "pick another --port") from None
    try:
        click.echo(f"CDP Batch API sandbox serving on {server.base_url} (Ctrl-C stops it)")
        click.echo(f"export CDP_BASE_URL={server.base_url}")
        click.echo(f"export CDP_CLIENT_KEY and CDP_API_TOKEN: {_credential_source(ctx)}")
        if fault_plan:
            click.echo(f"faults staged: {fault_plan}")
        server.serve_until_interrupted()
    except KeyboardInterrupt:
        # Ctrl-C can come while the banner is still being written: it stops too.
        server.stop()
    click.echo("sandbox stopped")


def _credential_source(ctx: click.Context) -> str:
    """Where the accepted credentials come from, without their values."""
    sources = {ctx.get_parameter_source(name) for name in ("client_key", "api_token")}
    if sources == {ParameterSource.DEFAULT}:
        return "the sandbox accepts the rehearsal defaults shown in --help"
    if sources == {ParameterSource.ENVIRONMENT}:
        return "the sandbox accepts the values already set in this environment"
    return ("the sandbox accepts the values given by --client-key/--api-token "
            "(or the environment/defaults for any not given)")

"""`rpa maskinporten`: ask Maskinporten for a token with the settings in effect and say what it grants."""

from __future__ import annotations

import time

import typer

app = typer.Typer(help="Maskinporten: check the token set-up.", no_args_is_help=False)


@app.command("maskinporten")
def check(
    orgnr: str = typer.Option(None, "--orgnr", help="System user of this orgnr (default: RPA_NAV__ORGNR)."),
    scope: str = typer.Option(None, "--scope", help="Scope (default: RPA_MASKINPORTEN__NAV_SCOPE)."),
) -> None:
    """Fetch one token for NAV's API (never printed) and show the system user it carries; exit 1 with
    a message naming the setting to fix when Maskinporten refuses."""
    import jwt

    from config.settings import get_settings
    from connectors.maskinporten import MaskinportenClient, MaskinportenError

    settings = get_settings()
    mp = settings.maskinporten
    orgnr = orgnr or settings.nav.orgnr
    scope = scope or mp.nav_scope
    typer.echo(f"issuer     {mp.issuer}\nclient id  {mp.client_id}\nscope      {scope}\norgnr      {orgnr}")
    try:
        client = MaskinportenClient.from_settings(mp, data_dir=settings.paths.data_dir)
        typer.echo(f"key        {'x5c (virksomhetssertifikat)' if client.key.x5c else f'kid {client.key.kid}'}")
        token = client.access_token(scope, orgnr)
    except MaskinportenError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    claims = jwt.decode(token.value.get_secret_value(), options={"verify_signature": False})
    details = next((d for d in claims.get("authorization_details") or [] if isinstance(d, dict)), {})
    user = ", ".join(details.get("systemuser_id") or []) or "-"
    typer.echo(f"OK: token for {token.scope}, system user {user} "
               f"({(details.get('systemuser_org') or {}).get('ID', '-')}), valid {int(token.expires_at - time.time())} s")

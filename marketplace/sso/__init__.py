"""Single sign-on per organisation through OpenID Connect (authorization code flow with PKCE, via Authlib)."""

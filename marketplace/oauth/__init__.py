"""OAuth 2.0 client-credentials grant for service accounts (Authlib), with hashed client secrets and tokens."""

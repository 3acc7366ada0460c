"""Trust: certificate authority, S/MIME, DKIM, revocation."""

"""Sign-in, sign-out, invitations and user administration."""

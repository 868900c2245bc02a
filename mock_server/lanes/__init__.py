"""The two request lanes: Connexion (routing, security, validation, envelopes) and the fast lane."""

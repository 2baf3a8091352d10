"""Maskinporten stand-in: registered clients, Altinn system users, JWT grants in, signed tokens out."""

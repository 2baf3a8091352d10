"""The Statens vegvesen stand-in: the Kjøretøyopplysninger API and the page 'Sjekk kjøretøyopplysninger'."""

"""Statens vegvesen: the Kjøretøyopplysninger API (single lookup) and the typed vehicle.

- `plates`   normalize and validate a kjennemerke (or a VIN)
- `client`   VegvesenClient: SVV-Authorization, retries, Retry-After, own error classes
- `parser`   the registry's JSON (or the web page's fields) -> `Vehicle`
- `codes`    fuel codes, energy classes, weight classes, registration statuses
- `cache`    a lookup cache with a max age (do not spend quota twice on the same vehicle)
"""

from connectors.vegvesen.client import VegvesenClient
from connectors.vegvesen.errors import (
    AuthenticationFailed,
    InvalidIdentifier,
    QuotaExceeded,
    TransientError,
    UnexpectedResponse,
    VegvesenError,
    VehicleNotFound,
)
from connectors.vegvesen.parser import Vehicle, parse_response, parse_vehicle
from connectors.vegvesen.plates import Identifier, PlateError, normalize_identifier, normalize_plate

__all__ = [
    "AuthenticationFailed", "Identifier", "InvalidIdentifier", "PlateError", "QuotaExceeded", "TransientError",
    "UnexpectedResponse", "Vehicle", "VegvesenClient", "VegvesenError", "VehicleNotFound",
    "normalize_identifier", "normalize_plate", "parse_response", "parse_vehicle",
]

"""The moderation service over HTTP (FastAPI): `create_app(ServedTarget.open(...))`."""

from .app import create_app
from .served import Chaos, ServedTarget

__all__ = ["Chaos", "ServedTarget", "create_app"]
